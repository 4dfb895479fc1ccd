// Every command parser and form schema, PROPERTY_RUNS generated inputs each (10,000 by default);
// the commands are dealt over four files so that jest's workers share them.
import { definePureProperties } from './pure-check';

definePureProperties((all) => all.filter((_, i) => i % 4 === 2));
