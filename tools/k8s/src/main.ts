// `node tools/k8s/bin/k8s.js <fetch|start|stop|status> [--dir D] [--port N] [--no-node|--node] [--node-ip IP] [--keep-data]`
import { clusterStatus, startCluster, stopCluster, type ClusterOptions } from './cluster';
import { fetchKubernetes } from './fetch';

const USAGE = 'usage: k8s.js <fetch|start|stop|status> [--dir <state dir>] [--port 6443] [--node | --no-node] [--node-ip <address>] [--version 1.33.13] [--keep-data]';

function parse(argv: string[]): { command: string; options: ClusterOptions & { keepData?: boolean } } {
  const [command, ...rest] = argv;
  const options: ClusterOptions & { keepData?: boolean } = {};
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--port') {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0 || n > 65529) throw new Error(`--port: '${v}' is not a port number (the cluster takes it and the 6 after it)`);
      options.port = n;
    } else if (flag === '--dir') options.dir = value();
    else if (flag === '--version') options.version = value();
    else if (flag === '--node') options.node = 'yes';
    else if (flag === '--no-node') options.node = 'no';
    else if (flag === '--node-ip') options.nodeIp = value();
    else if (flag === '--keep-data') options.keepData = true;
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  if (!command) throw new Error(USAGE);
  return { command, options };
}

export async function main(argv: string[]): Promise<void> {
  const { command, options } = parse(argv);
  switch (command) {
    case 'fetch':
      process.stdout.write(`${fetchKubernetes(options)}\n`);
      return;
    case 'start': {
      const info = await startCluster(options);
      process.stdout.write(`KUBECONFIG=${info.kubeconfig}\n`);
      return;
    }
    case 'stop': {
      const stopped = await stopCluster(options);
      process.stdout.write(stopped.length ? `stopped ${stopped.join(', ')}\n` : 'not running\n');
      return;
    }
    case 'status': {
      const info = clusterStatus(options);
      process.stdout.write(info ? `${JSON.stringify(info, null, 2)}\n` : 'not running\n');
      if (!info) process.exitCode = 3;
      return;
    }
    default:
      throw new Error(`unknown command '${command}'\n${USAGE}`);
  }
}
