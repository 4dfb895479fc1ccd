// Every command through the real dispatcher and a real SQLite database, PROPERTY_DISPATCH_RUNS
// generated invocations each (50 by default); the commands are dealt over two files.
import { defineDispatchProperties } from './dispatch-check';

defineDispatchProperties((all) => all.filter((_, i) => i % 2 === 0));
