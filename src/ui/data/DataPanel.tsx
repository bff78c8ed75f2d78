// The data: where it came from, a progress bar while it loads, a drop zone, and sample images.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { dropFiles, reloadData } from '../labController';
import { useLab } from '../store';
import type { DatasetSummary } from '../../worker/protocol';

/** One tile per class: up to four of its images in a 2×2 square, and its name. */
function ClassTile({ images, name: raw }: { images: Uint8Array[]; name: string }) {
  const { t } = useTranslation();
  const name = t(`classes.${raw}`, { defaultValue: raw });
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(64, 64);
    images.slice(0, 4).forEach((pixels, k) => {
      const ox = (k % 2) * 32;
      const oy = Math.floor(k / 2) * 32;
      for (let p = 0; p < 1024; p++) {
        const o = ((oy + (p >> 5)) * 64 + ox + (p & 31)) * 4;
        img.data[o] = pixels[3 * p];
        img.data[o + 1] = pixels[3 * p + 1];
        img.data[o + 2] = pixels[3 * p + 2];
        img.data[o + 3] = 255;
      }
    });
    ctx.putImageData(img, 0, 0);
  }, [images]);
  return (
    <li>
      <canvas ref={canvas} width={64} height={64} role="img" aria-label={name} />
      <span>{name}</span>
    </li>
  );
}

function SampleGrid({ summary }: { summary: DatasetSummary }) {
  const { t } = useTranslation();
  const { images, labels } = summary.samples;
  const byClass = new Map<number, Uint8Array[]>();
  labels.forEach((l, k) => byClass.set(l, [...(byClass.get(l) ?? []), images.subarray(k * 3072, (k + 1) * 3072)]));
  return (
    <figure className="samples">
      <figcaption className="sr-only">{t('data.samples')}</figcaption>
      <ul className="class-tiles" data-testid="sample-grid" data-count={labels.length}>
        {[...byClass].map(([c, imgs]) => (
          <ClassTile key={c} images={imgs} name={summary.classNames[c]} />
        ))}
      </ul>
    </figure>
  );
}

export function DataPanel({ showSamples = true }: { showSamples?: boolean }) {
  const { t } = useTranslation();
  const data = useLab((s) => s.data);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  return (
    <section
      className={over ? 'panel data-panel over' : 'panel data-panel'}
      aria-labelledby="data-title"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        void dropFiles([...e.dataTransfer.files]);
      }}
      data-testid="data-panel"
      data-status={data.status}
    >
      <h2 id="data-title">{t('data.heading')}</h2>
      {data.status === 'loading' && (
        <div role="status" aria-live="polite">
          <p>
            {t('data.loading')} {data.file ?? ''}
          </p>
          <progress max={data.total ?? 1} value={data.total ? (data.loaded ?? 0) : undefined} aria-label={t('data.loading')} />
        </div>
      )}
      {data.status === 'ready' && (
        <div>
          <p data-testid="data-count">
            {t('data.images', { train: data.summary.trainCount.toLocaleString('en'), test: data.summary.testCount.toLocaleString('en') })}
          </p>
          <p>
            {t('data.source')}:{' '}
            <strong data-testid="data-source" data-source={data.summary.source}>
              {t(`data.sources.${data.summary.source}`)}
            </strong>
          </p>
          {data.summary.cacheNote && <p className="warn">{data.summary.cacheNote}</p>}
          {showSamples && <SampleGrid summary={data.summary} />}
        </div>
      )}
      {data.status === 'missing' && (
        <div className="guidance" data-testid="data-guidance">
          <p>
            <strong>{t('data.missing')}</strong> {data.reason}.
          </p>
          {data.guidance.map((g) => (
            <p key={g}>{g}</p>
          ))}
        </div>
      )}
      {data.status === 'error' && (
        <p className="error" role="alert" data-testid="data-error">
          {data.message}
        </p>
      )}
      <div className="drop-zone">
        {t('data.drop')}{' '}
        <button type="button" className="link" onClick={() => input.current?.click()}>
          {t('data.choose')}
        </button>
        <input
          ref={input}
          type="file"
          multiple
          accept=".gz,.tgz,.tar,.bin,.txt"
          hidden
          data-testid="data-file-input"
          aria-label={t('data.choose')}
          onChange={(e) => {
            void dropFiles([...(e.target.files ?? [])]);
            e.target.value = '';
          }}
        />
        {data.status === 'ready' && data.summary.source !== 'origin' && (
          <>
            {' · '}
            <button type="button" className="link" onClick={reloadData}>
              {t('data.reload')}
            </button>
          </>
        )}
      </div>
    </section>
  );
}
