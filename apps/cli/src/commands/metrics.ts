import type { Command } from 'commander';

export function registerMetricsCommands(program: Command): void {
  program.command('metrics').description('(placeholder)');
}
