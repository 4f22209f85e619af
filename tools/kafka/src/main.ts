// `node tools/kafka/bin/kafka.js <fetch|start|stop|restart|status> [--port N] [--controller-port N] [--dir D] [--version V]`
import { brokerStatus, fetchKafka, restartBroker, startBroker, stopBroker, type BrokerOptions } from './broker';

const USAGE = 'usage: kafka.js <fetch|start|stop|restart|status> [--port 9092] [--controller-port 9093] [--dir <state dir>] [--version 4.4.0] [--keep-data]';

function parse(argv: string[]): { command: string; options: BrokerOptions & { keepData?: boolean } } {
  const [command, ...rest] = argv;
  const options: BrokerOptions & { keepData?: boolean } = {};
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    const int = (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${flag}: '${v}' is not a port number`);
      return n;
    };
    if (flag === '--port') options.port = int(value());
    else if (flag === '--controller-port') options.controllerPort = int(value());
    else if (flag === '--dir') options.dir = value();
    else if (flag === '--version') options.version = value();
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
      process.stdout.write(`${fetchKafka(options)}\n`);
      return;
    case 'start': {
      const info = await startBroker(options);
      process.stdout.write(`STRATA_BROKERS=${info.brokers}\n`);
      return;
    }
    case 'restart': {
      const info = await restartBroker(options);
      process.stdout.write(`STRATA_BROKERS=${info.brokers}\n`);
      return;
    }
    case 'stop':
      process.stdout.write((await stopBroker(options)) ? 'stopped\n' : 'not running\n');
      return;
    case 'status': {
      const info = brokerStatus(options);
      process.stdout.write(info ? `${JSON.stringify(info)}\n` : 'not running\n');
      if (!info) process.exitCode = 3;
      return;
    }
    default:
      throw new Error(`unknown command '${command}'\n${USAGE}`);
  }
}
