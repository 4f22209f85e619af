import { Command } from 'commander';
import { registerOnnxCommands } from './commands/onnx';
import { registerBenchCommands } from './commands/bench';
import { registerDataCommands } from './commands/data';
import { registerMetricsCommands } from './commands/metrics';
import { registerKdCommands } from './commands/kd';
import { registerTeacherCommands } from './commands/teacher';
import { registerExperimentCommands } from './commands/experiment';
import { registerStageCommands } from './commands/stages';
import { registerAnalyzeCommands } from './commands/analyze';
import { registerK8sCommands } from './commands/k8s';
import { registerExportCommands } from './commands/export';
import { registerCacheCommands } from './commands/cache';

export function buildProgram(): Command {
  const program = new Command('strata')
    .description('Knowledge distillation with intermediate-layer matching on ONNX Runtime')
    .showHelpAfterError()
    .version('0.1.0');
  registerOnnxCommands(program);
  registerBenchCommands(program);
  registerDataCommands(program);
  registerMetricsCommands(program);
  registerKdCommands(program);
  registerTeacherCommands(program);
  registerExperimentCommands(program);
  registerStageCommands(program);
  registerAnalyzeCommands(program);
  registerK8sCommands(program);
  registerExportCommands(program);
  registerCacheCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
