// Finds a system Firefox for the Firefox test project (a second JS and wasm engine: SpiderMonkey).
// No test tool downloads a browser: install Debian's with `apt-get install -y firefox-esr`, or point
// NORMKIT_FIREFOX at another Firefox binary (NORMKIT_FIREFOX=off pretends none is installed).
// puppeteer-core drives it over WebDriver BiDi (test/browser/puppeteer-firefox.ts); no geckodriver.
import { findBrowser } from './chromium.mjs';

const NAMES = ['firefox-esr', 'firefox'];

/** Absolute path of a Firefox binary, or undefined when none is installed. */
export function findFirefox() {
  return findBrowser(['NORMKIT_FIREFOX'], NAMES);
}

/**
 * Preferences for a headless Firefox on a closed network, on top of the ones puppeteer already writes
 * (which turn off app updates, safe browsing, extension updates, the blocklist server, first-run pages).
 * These add telemetry, studies, captive-portal and connectivity probes, DNS-over-HTTPS, prefetching, and
 * route every non-local request to a closed local port so nothing waits on a network that is not there.
 */
export const FIREFOX_PREFS = {
  'app.update.auto': false,
  'app.update.enabled': false,
  'app.update.staging.enabled': false,
  'app.normandy.enabled': false,
  'app.shield.optoutstudies.enabled': false,
  'browser.discovery.enabled': false,
  'browser.newtabpage.activity-stream.feeds.telemetry': false,
  'browser.newtabpage.activity-stream.telemetry': false,
  'browser.ping-centre.telemetry': false,
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'browser.safebrowsing.update.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'extensions.blocklist.enabled': false,
  'media.gmp-manager.updateEnabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.predictor.enabled': false,
  'network.prefetch-next': false,
  'network.trr.mode': 5,
  // Any request that is not to the local test server fails at once instead of waiting on DNS or a timeout.
  'network.proxy.type': 1,
  'network.proxy.http': '127.0.0.1',
  'network.proxy.http_port': 9,
  'network.proxy.ssl': '127.0.0.1',
  'network.proxy.ssl_port': 9,
  'network.proxy.no_proxies_on': 'localhost, 127.0.0.1, [::1]',
  'network.proxy.allow_hijacking_localhost': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.updatePing.enabled': false,
};

export const FIREFOX_INSTALL_HINT =
  'Install Firefox to run them: `apt-get install -y firefox-esr` (Debian), ' +
  'or set NORMKIT_FIREFOX=/path/to/firefox.';
