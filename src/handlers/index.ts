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
];
