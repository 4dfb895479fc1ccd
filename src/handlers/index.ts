// Every command Duty Desk knows. A new capability adds its use cases here.
import type { AnyCommand } from './command';
import { auditCommand } from './duty/audit.command';
import { helpCommand } from './duty/help.command';
import { homeCommand } from './duty/home.command';
import { meCommand } from './duty/me.command';
import { memberAddCommand } from './duty/member-add.command';
import { memberEditCommand } from './duty/member-edit.command';
import { memberListCommand } from './duty/member-list.command';
import { memberRemoveCommand, memberRestoreCommand } from './duty/member-remove.command';
import { roleGrantCommand, roleListCommand, roleRevokeCommand } from './duty/role.commands';
import { roundupCommands } from './duty/roundup.commands';
import { retentionCommands } from './duty/retention.commands';
import { exportPersonCommand } from './duty/export-person.command';
import { contactAddCommand, contactEditCommand, contactListCommand, contactRemoveCommand, contactVerifyCommand } from './page/contact.commands';
import { policyEditCommand, policyListCommand, policyNewCommand, policyRemoveCommand, policyShowCommand } from './page/policy.commands';
import { pageCommands } from './page/page.commands';
import { caseCommands } from './case/case.commands';
import { caseAdminCommands } from './case/case-admin.commands';
import { caseExportCommand, caseReportCommand } from './case/case-report.command';
import { crisisCommands } from './crisis/crisis.commands';
import { personCommands } from './crisis/person.commands';
import { crisisBoardCommand } from './crisis/crisis-board';
import { transferCommands } from './crisis/transfer.commands';
import { movementCommands } from './crisis/movement.commands';
import { duplicateCommands } from './crisis/duplicate.commands';
import { sitrepCommands } from './sitrep/sitrep.commands';
// Registers the open-cases section of the handoff brief.
import './case/case-brief';
import { awayCommand } from './roster/away.command';
import { calendarCommand, calendarResetCommand } from './roster/calendar';
import { coverCommand, coverListCommand, coverRemoveCommand } from './roster/cover.commands';
import { holidaysCommand } from './roster/holidays.command';
import { logCommand } from './roster/log.command';
import { rosterAddCommand, rosterEditCommand, rosterListCommand, rosterNewCommand, rosterRemoveCommand } from './roster/roster-admin.commands';
import { scheduleCommand } from './roster/schedule.command';
import { swapAcceptCommand, swapCommand, swapDeclineCommand } from './roster/swap.commands';
import { atCommand, nextCommand, nowCommand } from './roster/who.commands';

export const commands: readonly AnyCommand[] = [
  helpCommand,
  meCommand,
  homeCommand,
  memberAddCommand,
  memberEditCommand,
  memberListCommand,
  memberRemoveCommand,
  memberRestoreCommand,
  roleGrantCommand,
  roleRevokeCommand,
  roleListCommand,
  auditCommand,
  ...roundupCommands,
  ...retentionCommands,
  exportPersonCommand,
  nowCommand,
  atCommand,
  nextCommand,
  scheduleCommand,
  rosterNewCommand,
  rosterEditCommand,
  rosterListCommand,
  rosterAddCommand,
  rosterRemoveCommand,
  coverCommand,
  coverListCommand,
  coverRemoveCommand,
  swapCommand,
  swapAcceptCommand,
  swapDeclineCommand,
  awayCommand,
  holidaysCommand,
  calendarCommand,
  calendarResetCommand,
  logCommand,
  contactAddCommand,
  contactVerifyCommand,
  contactEditCommand,
  contactRemoveCommand,
  contactListCommand,
  policyNewCommand,
  policyEditCommand,
  policyListCommand,
  policyShowCommand,
  policyRemoveCommand,
  ...pageCommands,
  ...caseCommands,
  caseReportCommand,
  caseExportCommand,
  ...caseAdminCommands,
  ...crisisCommands,
  ...personCommands,
  crisisBoardCommand,
  ...transferCommands,
  ...movementCommands,
  ...duplicateCommands,
  ...sitrepCommands,
];
