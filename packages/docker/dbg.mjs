import { createInstance } from '@vms/core';
import { createDocker } from './dist/index.js';
import { execFileSync } from 'node:child_process';
const b = createDocker({ transport: 'cli', env: { VMS_DEBUG: '1' } });
const vm = createInstance(b, 'containers-dbg1', { image: process.argv[2] }, { debug: (m, d) => console.log('DEBUG', m, JSON.stringify(d)) });
vm.on('progress', (e) => console.log('PROGRESS', e.step, JSON.stringify(e.detail)));
await vm.create();
await vm.delete();
