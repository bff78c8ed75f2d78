// The architecture view: a dialog that draws any net of the experiment (ArchitectureDiagram), with
// a table of its stages, SVG/PNG export, and beside it the ImageNet ResNets of the paper's Table 1,
// counted by the same block code. It opens from a chart legend entry or from the net list
// (NetList); Escape or Close shuts it, and focus returns where it was.
import { useEffect, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { architecture } from '../../core/architecture';
import type { ExperimentConfig } from '../../core/config';
import { netLabelOf, netSpecOf, netsOf } from '../../core/experimentNets';
import { IMAGENET_DEPTHS, imagenetResNet } from '../../core/imagenet';
import { TABLE1_FLOPS } from '../../core/paper';
import { paramCount } from '../../core/nets';
import { download, slug, svgToPng } from '../charts/exportChart';
import { useLab } from '../store';
import { ArchitectureDiagram, fmtMacs, fmtParams } from './ArchitectureDiagram';

/** A net the view can show: the run's nets when there is a run, else the form's experiment's. */
interface NetChoice {
  id: string;
  label: string;
  depth: number;
  residual: boolean;
  family?: ExperimentConfig['families'][number];
  shortcut: ExperimentConfig['shortcuts'][number];
  block?: ExperimentConfig['blocks'][number];
}

export function useNetChoices(): { nets: NetChoice[]; config: ExperimentConfig } {
  // the run's nets and config, not the run: its series change with every metrics update, these do not
  const runNets = useLab((s) => s.run?.nets);
  const runConfig = useLab((s) => s.run?.config);
  const config = useLab((s) => s.config);
  return useMemo(() => {
    if (runNets && runConfig) return { nets: runNets, config: runConfig };
    return { nets: netsOf(config).map((e) => ({ ...e, label: netLabelOf(e, config) })), config };
  }, [runNets, runConfig, config]);
}

export const openArchitecture = (id: string) => useLab.setState({ architecture: id });

/** The nets of the experiment, each with its parameters and a button that opens its architecture. */
export function NetList() {
  const { t, i18n } = useTranslation();
  const { nets, config } = useNetChoices();
  const params = useMemo(() => new Map(nets.map((n) => [n.id, paramCount(netSpecOf(n, config))])), [nets, config]);
  return (
    <section className="panel net-list" aria-labelledby="net-list-title">
      <h2 id="net-list-title">{t('arch.netList')}</h2>
      <ul>
        {nets.map((n) => (
          <li key={n.id}>
            <button type="button" className="linklike" onClick={() => openArchitecture(n.id)} aria-label={t('arch.openFor', { net: n.label })}>
              {n.label}
            </button>{' '}
            <span className="hint">{(params.get(n.id)! / 1e6).toLocaleString(i18n.language, { maximumFractionDigits: 3 })}M</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ImagenetTable() {
  const { t, i18n } = useTranslation();
  const nets = useMemo(() => IMAGENET_DEPTHS.map((d) => imagenetResNet(d)), []);
  const n = (x: number, digits: number) => x.toLocaleString(i18n.language, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return (
    <section className="imagenet" aria-labelledby="imagenet-title">
      <h3 id="imagenet-title">{t('arch.imagenet')}</h3>
      <table className="reference" data-testid="imagenet-table">
        <thead>
          <tr>
            <th scope="col">{t('arch.net')}</th>
            <th scope="col">{t('arch.blockType')}</th>
            <th scope="col">{t('arch.layersPerStage')}</th>
            <th scope="col">{t('arch.params')}</th>
            <th scope="col">{t('arch.flops')}</th>
            <th scope="col">{t('arch.published')}</th>
          </tr>
        </thead>
        <tbody>
          {nets.map((net) => (
            <tr key={net.depth}>
              <th scope="row">ResNet-{net.depth}</th>
              <td>{t(`arch.blockKind.${net.block}`)}</td>
              <td className="num">{net.stages.map((s) => s.blocks).join(' · ')}</td>
              <td className="num">{n(net.params / 1e6, 1)}M</td>
              <td className="num">{n(net.multiplyAdds / 1e9, 2)}×10⁹</td>
              <td className="num">{n(TABLE1_FLOPS[net.depth], 1)}×10⁹</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">{t('arch.imagenetNote')}</p>
    </section>
  );
}

export function ArchitectureView() {
  const { t, i18n } = useTranslation();
  const open = useLab((s) => s.architecture);
  const { nets, config } = useNetChoices();
  const dialog = useRef<HTMLDialogElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const net = nets.find((n) => n.id === open) ?? null;
  const arch = useMemo(() => (net ? architecture(netSpecOf(net, config)) : null), [net, config]);

  // a modal dialog: focus stays inside while it is open, and goes back to its opener when it closes
  const opener = useRef<HTMLElement | null>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) {
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      d.showModal();
    }
    if (!open && d.open) d.close();
    if (!open && opener.current) {
      opener.current.focus();
      opener.current = null;
    }
  }, [open]);

  const close = () => useLab.setState({ architecture: null });
  const fileName = arch ? slug(`${arch.spec.label} architecture`) : 'architecture';
  const svgText = () => new XMLSerializer().serializeToString(svg.current!);
  const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(0)}%`;
  return (
    <dialog ref={dialog} className="arch-dialog" aria-labelledby="arch-title" onClose={close} data-testid="architecture-view">
      {arch && net && (
        <div className="arch-body">
          <div className="arch-head">
            <h2 id="arch-title">{t('arch.title', { net: net.label })}</h2>
            <span>
              <label htmlFor="arch-net">{t('arch.net')}</label>{' '}
              <select id="arch-net" value={net.id} onChange={(e) => openArchitecture(e.target.value)}>
                {nets.map((n) => (
                  <option key={n.id} value={n.id}>
                    {n.label}
                  </option>
                ))}
              </select>
            </span>
            <div className="arch-tools" role="group" aria-label={t('charts.exportGroup')}>
              <button
                type="button"
                onClick={async () =>
                  download(await svgToPng(svgText(), svg.current!.width.baseVal.value, svg.current!.height.baseVal.value, 2), `${fileName}.png`)
                }
              >
                {t('charts.exportPng')}
              </button>
              <button type="button" onClick={() => download(svgText(), `${fileName}.svg`, 'image/svg+xml')}>
                {t('charts.exportSvg')}
              </button>
              <button type="button" onClick={close} autoFocus>
                {t('arch.close')}
              </button>
            </div>
          </div>
          <div className="arch-scroll">
            <ArchitectureDiagram ref={svg} arch={arch} />
          </div>
          <p className="hint">{t('arch.caption')}</p>
          <div className="arch-tables">
            <table className="reference" data-testid="arch-stages">
              <thead>
                <tr>
                  <th scope="col">{t('arch.part')}</th>
                  <th scope="col">{t('arch.blocks')}</th>
                  <th scope="col">{t('arch.output')}</th>
                  <th scope="col">{t('arch.params')}</th>
                  <th scope="col">{t('arch.macs')}</th>
                </tr>
              </thead>
              <tbody>
                {[arch.stem, ...arch.stages, arch.head].map((p, i) => (
                  <tr key={p.key}>
                    <th scope="row">{p.key === 'stem' ? t('arch.stem') : p.key === 'head' ? t('arch.head') : t('arch.stageShort', { n: i })}</th>
                    <td className="num">{p.blocks.length || '–'}</td>
                    <td className="num">{p.key === 'head' ? p.channels : `${p.size}×${p.size}×${p.channels}`}</td>
                    <td className="num">
                      {p.params.toLocaleString(i18n.language)} ({pct(p.params, arch.params)})
                    </td>
                    <td className="num">{fmtMacs(p.multiplyAdds)}</td>
                  </tr>
                ))}
                <tr className="total">
                  <th scope="row">{t('arch.total')}</th>
                  <td className="num">{arch.spec.blocks.length}</td>
                  <td className="num">
                    {arch.spec.depth} {t('arch.layers')}
                  </td>
                  <td className="num" data-testid="arch-total-params">
                    {arch.params.toLocaleString(i18n.language)} ({fmtParams(arch.params)})
                  </td>
                  <td className="num">{fmtMacs(arch.multiplyAdds)}</td>
                </tr>
              </tbody>
            </table>
            <ImagenetTable />
          </div>
        </div>
      )}
    </dialog>
  );
}
