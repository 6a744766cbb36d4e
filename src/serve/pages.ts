import type { ResolvedConfig } from '../config.js';
import { escapeHtml as h } from '../escape.js';
import { labelsFor } from '../render/labels.js';

/**
 * The address as the confirm page shows it: enough for its owner to recognise, little for someone
 * a link was forwarded to. `odile.fairbanks@valleyledger.example` → `o•••s@v•••.example`.
 */
export function maskAddress(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const maskedLocal = local.length >= 4 ? `${[...local][0]}•••${[...local].at(-1)}` : `${[...local][0]}•••`;
  const dot = domain.indexOf('.');
  const maskedDomain = dot > 0 ? `${[...domain][0]}•••${domain.slice(dot)}` : '•••';
  return `${maskedLocal}@${maskedDomain}`;
}

export function page(config: ResolvedConfig, title: string, body: string): string {
  const { brand } = config;
  return `<!doctype html>
<html lang="${h(config.language)}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>${h(title)} · ${h(config.name)}</title>
  <style>
    body { margin: 0; background: ${brand.background}; color: ${brand.text}; font-family: ${brand.font}; line-height: 1.5; }
    main { max-width: 520px; margin: 48px auto; padding: 24px 28px; background: #fff; border-radius: 8px; }
    h1 { font-family: ${brand.headingFont}; color: ${brand.color}; font-size: 1.5rem; margin-top: 0; }
    button { font: inherit; font-weight: bold; color: #fff; background: ${brand.color}; border: 0; border-radius: 6px; padding: 12px 24px; cursor: pointer; }
    .address { font-weight: bold; }
    label { display: block; font-weight: bold; margin-top: 16px; }
    input[type=email], input[type=text] { box-sizing: border-box; width: 100%; font: inherit; padding: 10px 12px; margin-top: 4px; border: 1px solid #9ca3af; border-radius: 6px; }
    input:focus, button:focus { outline: 3px solid ${brand.accent}; outline-offset: 2px; }
    .consent { font-size: 0.9rem; margin: 16px 0; }
    .problem { color: #991b1b; font-weight: bold; }
    .trap { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
    .latest h2 { font-family: ${brand.headingFont}; font-size: 1.1rem; margin: 32px 0 8px; }
    .latest ul { padding-left: 1.2em; margin: 0; }
    .latest li { margin: 4px 0; }
    .latest time { color: #4b5563; font-size: 0.875rem; white-space: nowrap; }
    a { color: ${brand.color}; }
  </style>
</head>
<body>
  <main>
    <h1>${h(title)}</h1>
${body}
  </main>
</body>
</html>
`;
}

/** The page a GET shows: nothing changes until the button is pressed (mail scanners follow links). */
export function confirmPage(config: ResolvedConfig, email: string, alreadyUnsubscribed: boolean): string {
  if (alreadyUnsubscribed) {
    return page(config, 'You are unsubscribed', `    <p><span class="address">${h(maskAddress(email))}</span> is not subscribed to ${h(config.name)} and will get no more issues.</p>`);
  }
  return page(
    config,
    `Unsubscribe from ${config.name}?`,
    `    <p>Stop sending ${h(config.name)} to <span class="address">${h(maskAddress(email))}</span>?</p>
    <form method="post">
      <input type="hidden" name="confirm" value="unsubscribe">
      <button type="submit">${h(labelsFor(config.language, config.labels).unsubscribe)}</button>
    </form>`,
  );
}

export function donePage(config: ResolvedConfig, email: string): string {
  return page(config, 'You are unsubscribed', `    <p><span class="address">${h(maskAddress(email))}</span> will get no more issues of ${h(config.name)}.</p>`);
}

/** A link whose token does not open: said plainly, with nothing about any address. */
export function invalidLinkPage(config: ResolvedConfig): string {
  return page(
    config,
    'This unsubscribe link is not valid',
    `    <p>The link may have been cut short or changed on its way here. Open the unsubscribe link at the foot of any issue of ${h(config.name)}${
      config.unsubscribeMailto ? `, or write to <a href="mailto:${h(config.unsubscribeMailto)}?subject=unsubscribe">${h(config.unsubscribeMailto)}</a>` : ''
    }.</p>`,
  );
}

/** The general unsubscribe page, which the web version links to since it names no reader. */
export function generalPage(config: ResolvedConfig): string {
  return page(
    config,
    `Unsubscribe from ${config.name}`,
    `    <p>Every issue of ${h(config.name)} carries your own unsubscribe link at its foot: open it from the email you received${
      config.unsubscribeMailto ? `, or write to <a href="mailto:${h(config.unsubscribeMailto)}?subject=unsubscribe">${h(config.unsubscribeMailto)}</a>` : ''
    }.</p>`,
  );
}

export function plainPage(config: ResolvedConfig, title: string, text: string): string {
  return page(config, title, `    <p>${h(text)}</p>`);
}
