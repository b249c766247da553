/**
 * The command table: names, flags, help text and examples, and a lazy loader of each command's
 * implementation, so `vms --help` and completion cost nothing beyond this file.
 */
import type { OptionDefs } from './args.js';
import type { CommandModule } from './context.js';

export interface CommandDef {
  name: string;
  summary: string;
  usage: string;
  description?: string;
  options: OptionDefs;
  examples: string[];
  /** Arguments after this many positionals (or after `--`) pass through untouched (exec). */
  restAfter?: number;
  /** Complete instance names for the first positional. */
  takesInstance?: boolean;
  /** False for commands that never touch a backend (help, completion): no discovery, no core. */
  needsBackends?: boolean;
  load: () => Promise<CommandModule>;
}

const timeout: OptionDefs = {
  timeout: {
    type: 'string',
    value: 'DURATION',
    description: 'deadline of the operation (e.g. 90s, 5m)',
  },
};
const backendTimeout: OptionDefs = {
  'backend-timeout': {
    type: 'string',
    value: 'DURATION',
    description: 'how long each backend may take to answer (default 10s)',
  },
};

/** A command implemented in backend-commands.ts (loaded only when such a command runs). */
const backendCommand = (name: string) => async (): Promise<CommandModule> => {
  const { BACKEND_COMMANDS } = await import('./backend-commands.js');
  const mod = BACKEND_COMMANDS[name];
  if (!mod) throw new Error(`no implementation of the command ${name}`);
  return mod;
};

export const COMMANDS: readonly CommandDef[] = [
  {
    name: 'backends',
    summary: 'List the backends: package, version, tool, availability and what to install',
    usage: 'vms backends [flags]',
    options: { ...backendTimeout },
    examples: ['vms backends', 'vms backends --json'],
    load: backendCommand('backends'),
  },
  {
    name: 'create',
    summary: 'Create an instance (stopped; --start to start it too)',
    usage: 'vms create [BACKEND:]NAME [flags]',
    description:
      'Without BACKEND: the --backend flag, else the only available backend. Options are validated by the backend before anything runs; backend-specific ones go through --opt key=value or --options-json.',
    options: {
      backend: {
        type: 'string',
        short: 'b',
        value: 'BACKEND',
        description: 'backend to create it on',
      },
      image: { type: 'string', value: 'IMAGE', description: 'image to create it from' },
      cpus: { type: 'string', value: 'N', description: 'virtual CPUs' },
      memory: { type: 'string', value: 'SIZE', description: 'memory, e.g. 512M or 2G' },
      disk: { type: 'string', value: 'SIZE', description: 'disk size, e.g. 10G' },
      port: {
        type: 'string',
        short: 'p',
        multiple: true,
        value: 'HOST:GUEST',
        description: 'forward a port, e.g. 8080:80 or 127.0.0.1:8080:80/udp',
      },
      mount: {
        type: 'string',
        short: 'v',
        multiple: true,
        value: 'SRC:DST[:ro]',
        description: 'mount a host directory',
      },
      env: {
        type: 'string',
        short: 'e',
        multiple: true,
        value: 'K=V',
        description: 'environment variable',
      },
      label: { type: 'string', short: 'l', multiple: true, value: 'K=V', description: 'label' },
      opt: {
        type: 'string',
        short: 'o',
        multiple: true,
        value: 'KEY=VALUE',
        description: 'backend-specific option (dotted keys nest)',
      },
      'options-json': {
        type: 'string',
        value: 'JSON',
        description: 'all options as a JSON object (flags override it)',
      },
      start: { type: 'boolean', description: 'start it after creating it' },
      on: {
        type: 'string',
        value: 'BACKEND:NAME',
        description:
          'a container on the engine inside that VM (lima, colima, qemu); the VM is started when needed and remembered for later commands',
      },
      ...timeout,
    },
    examples: [
      'vms create docker:web --image nginx:alpine -p 8080:80 --start',
      'vms create docker:api --on lima:dev --image busybox --start',
      'vms create qemu:dev --cpus 2 --memory 2G --disk 20G',
      'vms create fake:x --opt image=busybox --label team=infra',
      `vms create podman:db --options-json '{"env":{"POSTGRES_PASSWORD":"x"}}'`,
    ],
    takesInstance: false,
    load: backendCommand('create'),
  },
  {
    name: 'start',
    summary: 'Start an instance (or resume a suspended one) and wait until it is ready',
    usage: 'vms start [BACKEND:]NAME [flags]',
    options: { ...timeout },
    examples: ['vms start docker:web', 'vms start dev --timeout 10m'],
    takesInstance: true,
    load: backendCommand('start'),
  },
  {
    name: 'stop',
    summary: 'Stop an instance: graceful, then forced after --grace',
    usage: 'vms stop [BACKEND:]NAME [flags]',
    options: {
      force: { type: 'boolean', short: 'f', description: 'skip the graceful shutdown' },
      grace: {
        type: 'string',
        value: 'DURATION',
        description: 'how long a graceful shutdown may take (default 10s)',
      },
      ...timeout,
    },
    examples: ['vms stop docker:web', 'vms stop qemu:dev --grace 60s', 'vms stop web --force'],
    takesInstance: true,
    load: backendCommand('stop'),
  },
  {
    name: 'suspend',
    summary: 'Suspend (pause) a running instance',
    usage: 'vms suspend [BACKEND:]NAME [flags]',
    options: { ...timeout },
    examples: ['vms suspend docker:web'],
    takesInstance: true,
    load: backendCommand('suspend'),
  },
  {
    name: 'resume',
    summary: 'Resume a suspended instance',
    usage: 'vms resume [BACKEND:]NAME [flags]',
    options: { ...timeout },
    examples: ['vms resume docker:web'],
    takesInstance: true,
    load: backendCommand('resume'),
  },
  {
    name: 'delete',
    summary: 'Delete an instance from any state (deleting a missing one is a no-op)',
    usage: 'vms delete [BACKEND:]NAME [flags]',
    options: { ...timeout },
    examples: ['vms delete docker:web', 'vms delete dev --json'],
    takesInstance: true,
    load: backendCommand('delete'),
  },
  {
    name: 'exec',
    summary: 'Run a command in a running instance; exits with its exit code',
    usage: 'vms exec [flags] [BACKEND:]NAME [--] CMD [ARG…]',
    description:
      'Flags of vms go before NAME, or between NAME and --; after --, or after NAME when there is no --, everything is the command. Stdin is forwarded when it is not a terminal (--no-stdin to disable).',
    options: {
      env: {
        type: 'string',
        short: 'e',
        multiple: true,
        value: 'K=V',
        description: 'environment variable for the command',
      },
      workdir: {
        type: 'string',
        short: 'w',
        value: 'DIR',
        description: 'working directory in the instance',
      },
      user: { type: 'string', short: 'u', value: 'USER', description: 'user to run as' },
      tty: { type: 'boolean', short: 't', description: 'allocate a terminal' },
      'no-stdin': { type: 'boolean', description: 'do not forward stdin' },
      ...timeout,
    },
    examples: [
      'vms exec docker:web -- nginx -v',
      'echo hi | vms exec dev -- cat',
      'vms exec -e DEBUG=1 -w /srv web -- ls -la',
    ],
    restAfter: 1,
    takesInstance: true,
    load: backendCommand('exec'),
  },
  {
    name: 'shell',
    summary: 'Open an interactive shell in a running instance (needs a terminal)',
    usage: 'vms shell [BACKEND:]NAME [flags]',
    options: {
      shell: { type: 'string', value: 'PATH', description: 'shell to run (default /bin/sh)' },
      user: { type: 'string', short: 'u', value: 'USER', description: 'user to run as' },
      workdir: { type: 'string', short: 'w', value: 'DIR', description: 'working directory' },
    },
    examples: ['vms shell docker:web', 'vms shell dev --shell /bin/bash'],
    takesInstance: true,
    load: backendCommand('shell'),
  },
  {
    name: 'list',
    summary: 'List instances across every available backend, in parallel',
    usage: 'vms list [flags]',
    options: {
      backend: {
        type: 'string',
        short: 'b',
        multiple: true,
        value: 'BACKEND',
        description: 'only these backends',
      },
      all: { type: 'boolean', short: 'a', description: 'also instances @vms did not create' },
      ...backendTimeout,
    },
    examples: ['vms list', 'vms list --backend docker --json', 'vms list --all'],
    load: backendCommand('list'),
  },
  {
    name: 'inspect',
    summary: 'Show the real state and properties of an instance',
    usage: 'vms inspect [BACKEND:]NAME [flags]',
    options: { ...timeout },
    examples: ['vms inspect docker:web', 'vms inspect dev --json'],
    takesInstance: true,
    load: backendCommand('inspect'),
  },
  {
    name: 'logs',
    summary: 'Print the logs of an instance (-f to follow)',
    usage: 'vms logs [BACKEND:]NAME [flags]',
    options: {
      follow: {
        type: 'boolean',
        short: 'f',
        description: 'keep printing new output until interrupted',
      },
      tail: { type: 'string', short: 'n', value: 'N', description: 'only the last N lines' },
    },
    examples: ['vms logs docker:web', 'vms logs qemu:dev -f', 'vms logs web --tail 20'],
    takesInstance: true,
    load: backendCommand('logs'),
  },
  {
    name: 'prune',
    summary: 'Delete every instance @vms created (asks first on a terminal)',
    description:
      'Instances of a running `vms mcp` server are skipped (they belong to its clients); those of a server that is gone are deleted, and its session records removed. --mcp deletes only those.',
    usage: 'vms prune [flags]',
    options: {
      backend: {
        type: 'string',
        short: 'b',
        multiple: true,
        value: 'BACKEND',
        description: 'only these backends',
      },
      mcp: {
        type: 'boolean',
        description: 'only what `vms mcp` servers that are gone (killed, crashed) left behind',
      },
      'dry-run': { type: 'boolean', short: 'n', description: 'only show what would be deleted' },
      yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation' },
      ...backendTimeout,
    },
    examples: [
      'vms prune --dry-run',
      'vms prune --yes',
      'vms prune --backend docker --json --yes',
      'vms prune --mcp --yes',
    ],
    load: backendCommand('prune'),
  },
  {
    name: 'events',
    summary: 'Stream state changes as NDJSON (one instance, or all, by polling)',
    usage: 'vms events [BACKEND:]NAME | vms events [flags]',
    description:
      'Prints one JSON record per line ({"schema":"vms-cli/v1","type":"state",…}). With NAME: the state of that instance, refreshed every --interval, plus drift the backend reports. Without NAME: every instance of the available backends, found by polling list(). Runs until interrupted (Ctrl-C: exit 130), or until --until STATE is seen (exit 0).',
    options: {
      backend: {
        type: 'string',
        short: 'b',
        multiple: true,
        value: 'BACKEND',
        description: 'only these backends (without NAME)',
      },
      interval: { type: 'string', value: 'DURATION', description: 'polling interval (default 2s)' },
      until: {
        type: 'string',
        value: 'STATE',
        description: 'exit 0 once the instance reaches this state',
      },
      ...backendTimeout,
    },
    examples: [
      'vms events docker:web',
      'vms events --interval 500ms',
      'vms events dev --until running',
    ],
    takesInstance: true,
    load: backendCommand('events'),
  },
  {
    name: 'mcp',
    summary: 'Serve the backends to AI agents over MCP (stdio, or --http on 127.0.0.1)',
    usage: 'vms mcp [--http [--port N]] [--config FILE] [policy flags]',
    description:
      'An MCP server (needs @vms/mcp): agents create, exec in, copy files to and from, and delete containers and VMs of the allowed backends, under a policy (--config FILE, JSON; flags replace its fields). Every instance belongs to the client session and is deleted when the client disconnects, the server exits, or its lifetime ends; vms prune removes what a killed server left. Nothing else is written to stdout in stdio mode. Exits 0 when the stdio client closes stdin, 130 when interrupted (Ctrl-C, SIGTERM).',
    options: {
      config: {
        type: 'string',
        value: 'FILE',
        description: 'policy file (JSON): allowlists, caps, templates, warm pools',
      },
      http: { type: 'boolean', description: 'serve Streamable HTTP on 127.0.0.1 instead of stdio' },
      port: { type: 'string', value: 'N', description: 'HTTP port (default: a free one, printed)' },
      token: {
        type: 'string',
        value: 'TOKEN',
        description: 'HTTP bearer token (default: $VMS_MCP_TOKEN, else generated and printed)',
      },
      backend: {
        type: 'string',
        short: 'b',
        multiple: true,
        value: 'BACKEND',
        description: 'allow only these backends',
      },
      image: {
        type: 'string',
        multiple: true,
        value: 'PATTERN',
        description: 'allow images matching PATTERN (e.g. alpine:*)',
      },
      'host-path': {
        type: 'string',
        multiple: true,
        value: 'DIR',
        description: 'allow file copies to and from under DIR',
      },
      'max-instances': {
        type: 'string',
        value: 'N',
        description: 'most instances alive at once (default 4)',
      },
      'max-cpus': {
        type: 'string',
        value: 'N',
        description: 'most CPUs of one instance (default 2)',
      },
      'max-memory': {
        type: 'string',
        value: 'SIZE',
        description: 'most memory of one instance (default 2G)',
      },
      'max-exec-time': {
        type: 'string',
        value: 'DURATION',
        description: 'longest exec deadline (default 10m)',
      },
      'max-output': {
        type: 'string',
        value: 'SIZE',
        description: 'output returned per stream (default 1M)',
      },
      'max-file': {
        type: 'string',
        value: 'SIZE',
        description: 'largest file read or written (default 8M)',
      },
      lifetime: {
        type: 'string',
        value: 'DURATION',
        description: 'an instance is deleted this long after its create (default 1h)',
      },
      network: {
        type: 'string',
        value: 'none|allow',
        description: 'instances without network (default none)',
      },
      warm: {
        type: 'string',
        multiple: true,
        value: 'TEMPLATE[=N]',
        description: 'keep N (default 1) instances of a template warm',
      },
      'check-config': { type: 'boolean', description: 'print the resulting policy and exit' },
    },
    examples: [
      "vms mcp --image 'vms-test/*'",
      'vms mcp --config policy.json --http --port 8765',
      'vms mcp --config policy.json --check-config',
    ],
    load: backendCommand('mcp'),
  },
  {
    name: 'demo',
    summary: 'Run the whole lifecycle on the best available backend, timing each step',
    usage: 'vms demo [flags]',
    description:
      'create → start → exec → suspend → resume → stop → delete on docker, else podman, else qemu (or --backend). The instance is deleted even when a step fails.',
    options: {
      backend: { type: 'string', short: 'b', value: 'BACKEND', description: 'backend to use' },
      image: {
        type: 'string',
        value: 'IMAGE',
        description: 'image to use (default: alpine, pulled when missing)',
      },
      opt: {
        type: 'string',
        short: 'o',
        multiple: true,
        value: 'KEY=VALUE',
        description: 'backend-specific option',
      },
      'options-json': {
        type: 'string',
        value: 'JSON',
        description: 'instance options as a JSON object (e.g. a qemu kernel and disk)',
      },
      ...timeout,
      ...backendTimeout,
    },
    examples: [
      'vms demo',
      'vms demo --image vms-test/busybox:latest',
      'vms demo --backend podman --json',
      `vms demo --backend qemu --options-json '{"kernel":"/boot/vmlinuz","disk":"/img/base.qcow2"}'`,
    ],
    load: backendCommand('demo'),
  },
  {
    name: 'ui',
    summary: 'Serve a live dashboard of every instance on every backend (needs @vms/ui)',
    usage: 'vms ui [flags]',
    description:
      'Prints a local URL holding a session token; the page shows each instance live (state, timeline, logs, latency) and acts through the same runtime as vms. Binds 127.0.0.1 unless --host says otherwise. Runs until interrupted (Ctrl-C: exit 130).',
    options: {
      host: {
        type: 'string',
        value: 'ADDRESS',
        description: 'address to bind (default 127.0.0.1)',
      },
      port: { type: 'string', value: 'PORT', description: 'port to bind (default: a free one)' },
      poll: {
        type: 'string',
        value: 'DURATION',
        description: 'list interval of backends without an event stream (default 2s)',
      },
      all: { type: 'boolean', short: 'a', description: 'also instances @vms did not create' },
      backend: {
        type: 'string',
        short: 'b',
        multiple: true,
        value: 'BACKEND',
        description: 'only these backends',
      },
      ...backendTimeout,
    },
    examples: ['vms ui', 'vms ui --port 7380', 'vms ui --backend docker --poll 5s'],
    load: backendCommand('ui'),
  },
  {
    name: 'completion',
    summary: 'Print a shell completion script (bash, zsh, fish)',
    usage: 'vms completion bash|zsh|fish',
    options: {},
    examples: [
      'source <(vms completion bash)',
      'vms completion zsh > ~/.zfunc/_vms  # with fpath+=(~/.zfunc) in ~/.zshrc',
      'vms completion fish > ~/.config/fish/completions/vms.fish',
    ],
    needsBackends: false,
    load: () => import('./cmd-completion.js'),
  },
  {
    name: 'help',
    summary: 'Show help for vms or a command',
    usage: 'vms help [COMMAND]',
    options: {},
    examples: ['vms help create'],
    needsBackends: false,
    load: () => import('./cmd-help.js'),
  },
];

export function findCommand(name: string): CommandDef | undefined {
  return COMMANDS.find((c) => c.name === name);
}
