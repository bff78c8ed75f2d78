// "Run at full scale": the lab's experiment as a PyTorch job. The script is one file,
// bench/reference/lab_train.py (the same nets the benchmark times against), and the config is the
// lab's JSON. Both the page (a download) and `npm run experiment -- --export-torch DIR` write these.
import type { ExperimentConfig } from './config';
import { configToQuery } from './config';

export const TORCH_SCRIPT_NAME = 'degradation_lab_train.py';

interface TorchExport {
  files: { name: string; text: string }[];
  /** How to run it and bring the result back, as a README in the folder. */
  readme: string;
}

/** The files of a full-scale export: the script, the config, and a README with the commands. */
export function torchExport(config: ExperimentConfig, script: string, name: string): TorchExport {
  const configName = 'config.json';
  const readme = `# ${name}: at full scale in PyTorch

This folder trains the Degradation Lab experiment below in PyTorch, with the lab's nets, recipe and
schedule, and writes a lab run file that the lab imports (Saved runs → Import): its curves then
appear in the same charts, beside live runs.

Experiment: ${configToQuery(config)}

One GPU (or the CPU):

    python3 ${TORCH_SCRIPT_NAME} --config ${configName} --data /path/to/cifar-10-batches-bin --out run.json

Several GPUs on one machine (DistributedDataParallel; each GPU's BN normalises over its share of
the batch, as the paper's two-GPU runs did; add --sync-bn to normalise over the whole batch):

    torchrun --nproc_per_node=2 ${TORCH_SCRIPT_NAME} --config ${configName} --data /path/to/cifar-10-batches-bin

Without the binary files, --download DIR fetches CIFAR-10 through torchvision. It checkpoints every
1,000 iterations (--checkpoint, --checkpoint-every) and continues with --resume. --iterations N
stops early (the schedule stays the config's). Requires PyTorch (Debian: apt-get install -y python3-torch).
`;
  return {
    files: [
      { name: TORCH_SCRIPT_NAME, text: script },
      { name: configName, text: `${JSON.stringify(config, null, 2)}\n` },
      { name: 'README.md', text: readme },
    ],
    readme,
  };
}
