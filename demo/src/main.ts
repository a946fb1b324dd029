import * as nk from 'normkit';
import { mountExplainer } from './explainer.js';
import { mountBench, runBenchCase } from './bench-ui.js';

declare global {
  interface Window {
    normkitDemo?: {
      ready: boolean;
      explainer: ReturnType<typeof mountExplainer>;
      runBenchCase: typeof runBenchCase;
      crossOriginIsolated: boolean;
    };
  }
}

const params = new URLSearchParams(location.search);
await nk.ready();
const explainer = mountExplainer(document.getElementById('explainer')!);
mountBench(document.getElementById('bench')!, params);
window.normkitDemo = { ready: true, explainer, runBenchCase, crossOriginIsolated: globalThis.crossOriginIsolated };
document.body.dataset.ready = 'true';
