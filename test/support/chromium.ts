/**
 * Headless Chromium driven over the DevTools protocol on --remote-debugging-pipe (fd 3: commands in, fd 4:
 * replies and events out, NUL-separated JSON): no dependency beyond Node. Records console errors,
 * uncaught exceptions, log errors (CSP violations among them) and every request the page makes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';

interface Pending {
  resolve(v: any): void;
  reject(e: Error): void;
}

export class Chromium {
  readonly consoleErrors: string[] = [];
  readonly requests: string[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly waiters: { method: string; resolve(params: any): void }[] = [];
  private buffer = '';
  private sessionId: string | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.buffer += chunk;
      let i: number;
      while ((i = this.buffer.indexOf('\0')) >= 0) {
        const text = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        this.dispatch(JSON.parse(text));
      }
    });
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('chromium exited'));
      this.pending.clear();
    });
  }

  static async launch(): Promise<Chromium> {
    const profile = mkdtempSync(join(tmpdir(), 'report-chromium-'));
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-extensions',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        '--remote-debugging-pipe',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
    );
    const browser = new Chromium(child, profile);
    const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
    browser.sessionId = sessionId;
    await browser.page('Runtime.enable');
    await browser.page('Log.enable');
    await browser.page('Network.enable');
    await browser.page('Page.enable');
    return browser;
  }

  private dispatch(msg: any): void {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`${msg.error.message} ${msg.error.data ?? ''}`));
      else p?.resolve(msg.result);
      return;
    }
    const { method, params } = msg;
    if (method === 'Runtime.consoleAPICalled' && (params.type === 'error' || params.type === 'assert')) {
      this.consoleErrors.push(`console.${params.type}: ${params.args.map((a: any) => a.value ?? a.description).join(' ')}`);
    } else if (method === 'Runtime.exceptionThrown') {
      this.consoleErrors.push(`exception: ${params.exceptionDetails.exception?.description ?? params.exceptionDetails.text}`);
    } else if (method === 'Log.entryAdded' && params.entry.level === 'error') {
      this.consoleErrors.push(`log: ${params.entry.text} ${params.entry.url ?? ''}`);
    } else if (method === 'Network.requestWillBeSent') {
      this.requests.push(params.request.url);
    }
    for (let i = 0; i < this.waiters.length; i++) {
      if (this.waiters[i]!.method === method) {
        this.waiters.splice(i, 1)[0]!.resolve(params);
        i--;
      }
    }
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<any> {
    const id = this.nextId++;
    const pipe = this.child.stdio[3] as Writable;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      pipe.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }

  /** A command to the page's session. */
  page(method: string, params: object = {}): Promise<any> {
    return this.send(method, params, this.sessionId);
  }

  waitFor(method: string, timeoutMs = 20_000): Promise<any> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${method}`)), timeoutMs);
      this.waiters.push({
        method,
        resolve: (p) => {
          clearTimeout(timer);
          resolve(p);
        },
      });
    });
  }

  async navigate(url: string): Promise<void> {
    const loaded = this.waitFor('Page.loadEventFired');
    await this.page('Page.navigate', { url });
    await loaded;
  }

  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.page('Runtime.evaluate', { expression, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`evaluate failed: ${r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** A full-page PNG at the given width. */
  async screenshot(width = 1280): Promise<Buffer> {
    await this.page('Emulation.setDeviceMetricsOverride', { width, height: 800, deviceScaleFactor: 1, mobile: false });
    const metrics = await this.page('Page.getLayoutMetrics');
    const height = Math.ceil(metrics.cssContentSize?.height ?? metrics.contentSize.height);
    const shot = await this.page('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width, height, scale: 1 } });
    return Buffer.from(shot.data, 'base64');
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    this.send('Browser.close').catch(() => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true });
  }
}
