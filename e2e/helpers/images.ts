/**
 * The e2e images, built here from Debian's busybox-static and imported into containerd as OCI archives: no
 * registry is ever contacted (pods use imagePullPolicy: Never, the sandbox image is local too).
 *
 * - rollsafe.local/app:1: "a typical app": it starts listening 3 s after it starts (busybox httpd on 8080,
 *   answering /index.html with its VERSION) and exits at once on SIGTERM.
 * - rollsafe.local/pause:1: the pod sandbox; sleeps until it is stopped.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'sleep', 'httpd', 'echo', 'cat', 'kill', 'mkdir', 'ls', 'true'];

export const APP_IMAGE = 'rollsafe.local/app:1';
export const PAUSE_IMAGE = 'rollsafe.local/pause:1';

/** The app: a trap so that SIGTERM ends it at once even as PID 1 (which ignores default-action signals). */
const APP_SCRIPT = `#!/bin/sh
trap 'kill $child 2>/dev/null; exit 0' TERM
mkdir -p /tmp/www
echo "\${VERSION:-v0}" > /tmp/www/index.html
sleep 3 & child=$!; wait $child
httpd -f -p 8080 -h /tmp/www & child=$!
wait $child
`;

const PAUSE_SCRIPT = `#!/bin/sh
trap 'exit 0' TERM INT
sleep 2147483647 & wait $!
`;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function rootfs(dir: string, script: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of APPLETS) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'entrypoint.sh'), script, { mode: 0o755 });
}

/** The image config's `config` member: what runs, as whom. */
export interface ImageConfig {
  Entrypoint: string[];
  Env: string[];
  WorkingDir: string;
  User?: string;
}

/** Writes an OCI image layout archive of one root filesystem (one layer) and returns its path. */
export function ociArchive(dir: string, name: string, root: string, imageConfig: ImageConfig): string {
  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layerPath = join(dir, 'layer.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '--mtime=@0', '-C', root, '-cf', layerPath, '.']);
  const layer = readFileSync(layerPath);
  const layerDigest = sha256(layer);
  writeFileSync(join(blobs, layerDigest), layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: imageConfig, rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] } }));
  const configDigest = sha256(config);
  writeFileSync(join(blobs, configDigest), config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configDigest}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
    }),
  );
  const manifestDigest = sha256(manifest);
  writeFileSync(join(blobs, manifestDigest), manifest);
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${manifestDigest}`,
          size: manifest.length,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':')[1] },
        },
      ],
    }),
  );
  const archive = join(dir, 'image.tar');
  execFileSync('tar', ['-C', layout, '-cf', archive, '.']);
  return archive;
}

/** A busybox image running `script`. */
export function buildImage(workDir: string, name: string, script: string): string {
  const dir = join(workDir, name.replace(/[^a-z0-9]+/g, '-'));
  const root = join(dir, 'rootfs');
  rootfs(root, script);
  return ociArchive(dir, name, root, { Entrypoint: ['/entrypoint.sh'], Env: ['PATH=/bin'], WorkingDir: '/' });
}

export function buildImages(workDir: string): string[] {
  return [buildImage(workDir, APP_IMAGE, APP_SCRIPT), buildImage(workDir, PAUSE_IMAGE, PAUSE_SCRIPT)];
}
