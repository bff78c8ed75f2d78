// Figures reported by He et al. 2015 for CIFAR-10 (Table 6), for the reference panel. Only what
// the paper states; the lab draws no invented curves.

interface PaperRow {
  net: string;
  depth: number;
  /** Parameters in millions, as printed. */
  paramsM: number;
  /** Test error in %, as printed (best of 5 runs for ResNet-110: 6.43; mean ± std 6.61 ± 0.16). */
  testError: number;
}

export const TABLE6: PaperRow[] = [
  { net: 'ResNet-20', depth: 20, paramsM: 0.27, testError: 8.75 },
  { net: 'ResNet-32', depth: 32, paramsM: 0.46, testError: 7.51 },
  { net: 'ResNet-44', depth: 44, paramsM: 0.66, testError: 7.17 },
  { net: 'ResNet-56', depth: 56, paramsM: 0.85, testError: 6.97 },
  { net: 'ResNet-110', depth: 110, paramsM: 1.7, testError: 6.43 },
];

/** Table 1's FLOPs (multiply-adds, ×10⁹) of the ImageNet ResNets, as printed. */
export const TABLE1_FLOPS: Record<18 | 34 | 50 | 101 | 152, number> = { 18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3 };
