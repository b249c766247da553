// A stand-in MCP client in its own process, for "the client goes away" tests: it spawns
// `vms mcp`, creates an instance, prints `{ pid, id }` (the server's PID, the instance id) as
// one JSON line, starts a long exec and waits. The test then SIGKILLs this process: the server's
// stdin closes with no signal sent to it, as when a real client crashes.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const spec = JSON.parse(process.argv[2]);
const transport = new StdioClientTransport({
  command: process.execPath,
  args: spec.args,
  cwd: spec.cwd,
  env: spec.env,
  stderr: 'inherit',
});
const client = new Client({ name: 'vms-mcp-test-child', version: '1.0.0' });
await client.connect(transport);
const created = await client.callTool(
  { name: 'create_instance', arguments: spec.create },
  undefined,
  { timeout: 600_000 },
);
if (created.isError) {
  process.stderr.write(`create failed: ${created.content[0]?.text}\n`);
  process.exit(1);
}
process.stdout.write(
  `${JSON.stringify({ pid: transport.pid, id: created.structuredContent.instance.id })}\n`,
);
await client.callTool({ name: 'exec', arguments: spec.exec }, undefined, { timeout: 600_000 });
