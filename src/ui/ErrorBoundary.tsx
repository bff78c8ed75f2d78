// One part of the page that fails to render (a damaged record, a bug) shows what failed in its
// place, with "Try again"; the rest of the page keeps working and nothing recorded is touched.
import type { ErrorInfo, ReactNode } from 'react';
import { Component } from 'react';
import i18n from './i18n';
import { withError } from './events';
import { useLab } from './store';

interface Props {
  /** What this part is, for the message: "charts", "saved runs", … */
  area: string;
  children: ReactNode;
}

export class ErrorBoundary extends Component<Props, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    // also on the page's error list, with where it happened (the first component in the stack)
    const where = info.componentStack?.trim().split('\n')[0]?.trim() ?? '';
    useLab.setState((s) => withError(s, `${this.props.area}: ${error.message}${where ? ` (${where})` : ''}`));
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="banner error" role="alert" data-testid="area-failed" data-area={this.props.area}>
        {i18n.t('errors.area', { area: this.props.area, message: error.message })}{' '}
        <button
          type="button"
          onClick={() => {
            useLab.setState({ viewFault: null });
            this.setState({ error: null });
          }}
        >
          {i18n.t('errors.retry')}
        </button>
      </div>
    );
  }
}

/** Fault injection (tests): throws while rendering when the store says this area should fail. */
export function Tripwire({ area }: { area: string }): null {
  const fault = useLab((s) => s.viewFault);
  if (fault === area) throw new Error('a rendering fault (simulated)');
  return null;
}
