// `strata k8s render|crd|settings`: the Kubernetes objects of an Experiment for clusters without the controller,
// the experiments.strata.dev CRD, and an overlay's settings (docs/DEPLOY.md).
import * as fs from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { requireFile } from '../cli-errors';
import { readManifestFile } from '@strata/experiment';
import { OVERLAYS, defaultSettings, experimentCrd, objectsProblems, parseSettings, renderExperiment, toYamlDocuments, type Overlay } from '@strata/k8s';

function overlay(value: string): Overlay {
  if (!(OVERLAYS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--overlay must be one of ${OVERLAYS.join(', ')}, got '${value}'`);
  return value as Overlay;
}

interface RenderOpts {
  overlay: Overlay;
  settings?: string;
  namespace?: string;
  json?: boolean;
}

export function registerK8sCommands(program: Command): void {
  const k8s = program.command('k8s').description('Kubernetes: render an Experiment\'s objects, print the CRD or an overlay\'s settings');

  k8s
    .command('render')
    .description('print the ConfigMap and Jobs of an experiment manifest (what the controller creates), for kubectl apply -f -')
    .argument('<manifest>', 'experiment manifest (.yaml)')
    .option('--overlay <name>', `cluster settings: ${OVERLAYS.join(' | ')}`, overlay, 'cpu')
    .option('--settings <file>', 'settings.json of your own overlay (instead of --overlay\'s)')
    .option('--namespace <ns>', 'namespace (default: the settings\')')
    .option('--json', 'print a JSON List instead of YAML documents')
    .addHelpText('after', '\nExample:\n  strata k8s render examples/sst2.yaml --overlay gpu | kubectl apply -f -')
    .action((file: string, o: RenderOpts) => {
      requireFile(file, 'an experiment manifest (.yaml or .json)');
      const manifest = readManifestFile(file);
      const settings = o.settings ? parseSettings(fs.readFileSync(requireFile(o.settings, 'a settings.json (strata k8s settings prints one)'), 'utf8'), o.settings) : defaultSettings(o.overlay);
      if (o.namespace) settings.namespace = o.namespace;
      const objects = renderExperiment(manifest, { settings, managedBy: 'strata-cli' });
      // The same schemas the tests check against; a failure here is a bug in libs/k8s, not in the manifest.
      const problems = objectsProblems(objects);
      if (problems.length > 0) throw new Error(`rendered objects are invalid:\n  ${problems.join('\n  ')}`);
      process.stdout.write(o.json ? `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n` : toYamlDocuments(objects));
    });

  k8s
    .command('crd')
    .description('print the experiments.strata.dev CustomResourceDefinition (generated from the manifest schema; k8s/base/crd.yaml)')
    .addHelpText('after', '\nExample:\n  strata k8s crd | kubectl apply -f -')
    .action(() => {
      process.stdout.write(toYamlDocuments([experimentCrd()]));
    });

  k8s
    .command('settings')
    .description('print the settings.json an overlay ships (k8s/overlays/<overlay>/settings.json)')
    .option('--overlay <name>', `${OVERLAYS.join(' | ')}`, overlay, 'cpu')
    .addHelpText('after', '\nExample:\n  strata k8s settings --overlay gpu > my-settings.json   # then edit, and: strata k8s render exp.yaml --settings my-settings.json')
    .action((o: { overlay: Overlay }) => {
      process.stdout.write(`${JSON.stringify(defaultSettings(o.overlay), null, 2)}\n`);
    });
}
