import { Foundation1732260000000 } from './1732260000000-foundation';

/** Every migration, in order. Add new ones at the end. */
export const migrations = [Foundation1732260000000];
