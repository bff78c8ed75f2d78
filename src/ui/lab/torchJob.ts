// "Full scale (PyTorch)": the form's experiment as a job for a GPU machine.
import { strToU8, zipSync } from 'fflate';
import torchScript from '../../../bench/reference/lab_train.py?raw';
import { torchExport } from '../../core/torchExport';
import { download } from '../charts/exportChart';
import { useLab } from '../store';
import { describeConfig } from './runName';

/**
 * "Full scale (PyTorch)": the form's experiment as a zip of the PyTorch script, its config and a
 * README with the commands (src/core/torchExport.ts). The run file it writes imports here.
 */
export function exportTorchJob(): void {
  const { config } = useLab.getState();
  const name = describeConfig(config);
  const { files } = torchExport(config, torchScript, name);
  const zip = zipSync(Object.fromEntries(files.map((f) => [`degradation-lab-pytorch/${f.name}`, strToU8(f.text)])));
  download(new Blob([zip], { type: 'application/zip' }), `${name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '')}-pytorch.zip`);
}
