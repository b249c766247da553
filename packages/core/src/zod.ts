/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say

/**
 * `@vms/core/zod`: zod's schema builders from the one copy @vms/core carries inside its bundle,
 * tree-shaken to what schemas need: no locale files and no unused schema kinds load, which a
 * plain `import 'zod'` cannot avoid (every zod entry point re-exports all 60+ locales).
 *
 *   import * as z from '@vms/core/zod';
 *   export const optionsSchema = z.object({ image: z.string().min(1) }).strict();
 *
 * The types are zod's own (zod 4), so these schemas work wherever a zod schema is expected, and
 * a backend may as well use its own `zod`: core only calls `safeParse` on `optionsSchema`.
 */
export type * from 'zod';
export {
  any,
  array,
  base64,
  base64url,
  bigint,
  boolean,
  catch,
  check,
  cidrv4,
  cidrv6,
  cuid,
  cuid2,
  custom,
  date,
  discriminatedUnion,
  e164,
  email,
  emoji,
  enum,
  function,
  guid,
  hex,
  hostname,
  instanceof,
  int,
  intersection,
  ipv4,
  ipv6,
  jwt,
  keyof,
  lazy,
  literal,
  looseObject,
  looseRecord,
  mac,
  map,
  NEVER,
  nan,
  nanoid,
  never,
  null,
  nullable,
  nullish,
  number,
  object,
  optional,
  partialRecord,
  pipe,
  preprocess,
  record,
  refine,
  set,
  strictObject,
  string,
  stringbool,
  superRefine,
  symbol,
  transform,
  tuple,
  ulid,
  undefined,
  union,
  unknown,
  url,
  uuid,
  void,
  ZodError,
} from 'zod';
