/**
 * Image references as the engines read them (the distribution `reference` grammar):
 * `[registry[:port]/]path[:tag][@algo:hex]`, lowercase path components, 255 characters of name
 * at most. Checked before anything runs, so a bad `image` is INVALID_OPTIONS naming the field
 * instead of an engine error after a round trip.
 */
import { InvalidOptionsError } from '@vms/core';

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(
  `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
const NAME_MAX = 255;

/** Docker Hub, where a reference without a registry goes (podman: its unqualified-search registries). */
export const DEFAULT_REGISTRY = 'docker.io';

export interface ImageReference {
  /** As written by the user. */
  raw: string;
  /** The registry written in the reference (`localhost:5000`), undefined for a short name. */
  domain?: string;
  /** The repository path within the registry (`library/nginx` is written `nginx`). */
  path: string;
  tag?: string;
  digest?: string;
}

/**
 * Parses `raw`, or undefined when it is not a valid reference. A first component is a registry
 * only when it looks like one (has a `.` or `:`, or is `localhost`), as the docker CLI decides.
 */
export function parseReference(raw: string): ImageReference | undefined {
  const m = REFERENCE.exec(raw);
  if (!m) return undefined;
  const [, written, rest = '', tag, digest] = m;
  // `team/app` is a path on the default registry, not a host named "team".
  const isDomain = written !== undefined && (/[.:]/.test(written) || written === 'localhost');
  if (written !== undefined && !isDomain && !new RegExp(`^${PATH_COMPONENT}$`).test(written)) {
    return undefined;
  }
  const domain = isDomain ? written : undefined;
  const path = written !== undefined && !isDomain ? `${written}/${rest}` : rest;
  if ((domain ? `${domain}/${path}` : path).length > NAME_MAX) return undefined;
  return {
    raw,
    ...(domain ? { domain } : {}),
    path,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** Why `raw` is not a valid reference, in words a user can act on. */
function whyInvalid(raw: string): string {
  if (raw.length === 0) return 'must not be empty';
  if (/\s/.test(raw)) return 'must not contain spaces';
  const noDigest = raw.split('@')[0] ?? '';
  const colon = noDigest.lastIndexOf(':');
  const name = colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const repo = /[.:]/.test(first) || first === 'localhost' ? name.slice(slash + 1) : name;
  if (/[A-Z]/.test(repo)) return 'the repository name must be lowercase';
  if (name.length > NAME_MAX) return `the name is longer than ${NAME_MAX} characters`;
  return 'expected [registry[:port]/]repository[:tag][@digest], e.g. nginx:1.27 or localhost:5000/team/app';
}

/** The parsed reference, or INVALID_OPTIONS naming `image` with a hint. */
export function checkReference(raw: string, field = 'image'): ImageReference {
  const ref = parseReference(raw);
  if (ref) return ref;
  throw new InvalidOptionsError(
    [
      {
        path: field,
        message: `${JSON.stringify(raw)} is not a valid image reference: ${whyInvalid(raw)}`,
      },
    ],
    {
      hint: 'write it as the engine would: lowercase repository, optional registry host, :tag and @digest (e.g. docker.io/library/nginx:alpine)',
    },
  );
}

/** The registry a reference is pulled from (`docker.io` for short names). */
export function registryOf(ref: ImageReference): string {
  return ref.domain ?? DEFAULT_REGISTRY;
}

/** `repo` and `tag` for the engine API's `POST /images/create` (the digest goes in `tag`). */
export function pullParams(ref: ImageReference): { fromImage: string; tag: string } {
  return {
    fromImage: ref.domain ? `${ref.domain}/${ref.path}` : ref.path,
    tag: ref.digest ?? ref.tag ?? 'latest',
  };
}
