import { toString as qrCodeSvg } from 'qrcode';
import { useEffect, useState } from 'react';

/**
 * The otpauth URI as a QR code for an authenticator app to scan. Rendered to SVG text and shown as a `data:`
 * image: the server's CSP already allows `img-src data:` (apps/server/src/platform/http/security.ts), and an
 * `<img>` runs no script and needs no inline style, so nothing in the CSP has to change. The key and the link
 * beside it stay for people who cannot scan.
 */
export function OtpauthQrCode({ uri }: { uri: string }) {
  const [src, setSrc] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    setSrc(undefined);
    qrCodeSvg(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }).then(
      (svg) => {
        if (live) setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`);
      },
      // A URI too long for a QR code: the key and the link remain.
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [uri]);
  if (!src) return null;
  return (
    <img
      className="otpauth-qr"
      src={src}
      width={184}
      height={184}
      alt="QR code of the setup link: scan it with your authenticator app"
    />
  );
}
