/**
 * Where colima keeps a profile on the host (config/files.go, config/profile.go): the base
 * directory is COLIMA_HOME when that directory exists, else ~/.colima when it exists, else
 * $XDG_CONFIG_HOME/colima, else ~/.colima on macOS and ~/.config/colima elsewhere. A profile's
 * directory (`<base>/<profile>`) holds colima.yaml and, while the docker runtime runs,
 * docker.sock; `colima delete` removes it.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function colimaHomeDir(
  env: Record<string, string | undefined> = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  const explicit = env.COLIMA_HOME;
  if (explicit && existsSync(explicit)) return explicit;
  const home = env.HOME || homedir();
  const dotColima = join(home, '.colima');
  if (existsSync(dotColima)) return dotColima;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'colima');
  if (platform === 'darwin') return dotColima;
  return join(home, '.config', 'colima');
}

export function profileDir(base: string, profile: string): string {
  return join(base, profile);
}
