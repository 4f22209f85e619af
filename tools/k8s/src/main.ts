// `node tools/k8s/bin/k8s.js <fetch|start|stop|status> [--dir D] [--port N] [--no-node|--node] [--node-ip IP] [--keep-data]`
import { clusterStatus, startCluster, stopCluster, type ClusterOptions } from './cluster';
import { fetchKubernetes } from './fetch';
import { buildImages, buildKafkaImage, loadImages } from './images';

const USAGE = 'usage: k8s.js <fetch|start|stop|status|images> [--dir <state dir>] [--port 6443] [--node | --no-node] [--node-ip <address>] [--version 1.33.13] [--keep-data] [--no-load]';

function parse(argv: string[]): { command: string; options: ClusterOptions & { keepData?: boolean; noLoad?: boolean } } {
  const [command, ...rest] = argv;
  const options: ClusterOptions & { keepData?: boolean; noLoad?: boolean } = {};
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
    else if (flag === '--no-load') options.noLoad = true;
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
    case 'images': {
      // Build Strata's images from HEAD (cached per commit) and load them into the running cluster's node.
      const all = [buildImages({ home: options.home }), buildKafkaImage({ home: options.home })];
      const info = clusterStatus(options);
      for (const built of all) {
        if (!options.noLoad && info?.node.containerdSocket) {
          const t0 = Date.now();
          loadImages(built, info.node);
          process.stderr.write(`loaded into ${info.node.name} in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${built.names.join(', ')}\n`);
        }
        process.stdout.write(`${built.archive}\n`);
      }
      if (!options.noLoad && !info?.node.containerdSocket) process.stderr.write(`not loaded: ${info ? `the cluster has no node (${info.node.skipped})` : 'no cluster running'}\n`);
      return;
    }
    default:
      throw new Error(`unknown command '${command}'\n${USAGE}`);
  }
}
