import { chromium } from 'playwright-core';
import { serveStatic } from '/work/main/bench/editor/staticServer.ts';
const server = await serveStatic('/work/main/apps/web/dist');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless','--no-sandbox','--disable-gpu'] });
for (const flags of ['', '__noRel', '__noConn', '__noRel,__noConn']) {
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
await page.goto(`${server.url}/demo?topics=10000`);
await page.waitForFunction(() => (window as any).canopyDemo?.firstFrameAt > 0);
for (const f of flags.split(',').filter(Boolean)) await page.evaluate(`window.${f} = true`);
await page.waitForTimeout(500);
await page.evaluate(`(() => { window.__t = []; const tick = (t) => { window.__t.push(t); if (window.__t.length < 2000) requestAnimationFrame(tick); }; requestAnimationFrame(tick); })()`);
await page.mouse.move(700, 450); await page.mouse.down();
for (let i = 1; i <= 120; i++) { const a = i / 120 * Math.PI * 2; await page.mouse.move(700 + Math.sin(a) * 300, 450 - (1 - Math.cos(a)) * 150); await page.waitForTimeout(8); }
await page.mouse.up();
const t: number[] = await page.evaluate('window.__t');
const iv = t.slice(1).map((x, i) => x - t[i]!).sort((a, b) => a - b);
console.log(flags || 'all', 'frames', iv.length, 'p50', iv[Math.floor(iv.length / 2)]?.toFixed(1), 'p95', iv[Math.floor(iv.length * 0.95)]?.toFixed(1));
await page.close();
}
await browser.close(); await server.close();
