// What to tell a user who has no CIFAR-10 yet: the same words in the terminal and in the lab.

export const DATA_GUIDANCE = [
  'The lab needs CIFAR-10 (the binary version, 163 MB). Three ways to supply it:',
  '1. Online: run `npm run fetch-data` (or `npm start`), which downloads https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, verifies it and unpacks it into public/data/.',
  '2. A folder of .bin files you already have: `CIFAR10_DIR=/path/to/cifar-10-batches-bin npm run fetch-data`. An already-downloaded archive: `CIFAR10_TARBALL=/path/to/cifar-10-binary.tar.gz npm run fetch-data`.',
  '3. In the lab: drop cifar-10-binary.tar.gz, or the data_batch_*.bin and test_batch.bin files, onto the page.',
];
