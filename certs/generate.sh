#!/usr/bin/env bash
# Generates a CA and an ECDSA P-256 serving certificate for the rollsafe webhook.
#
#   certs/generate.sh [--out DIR] [--namespace NS] [--service NAME] [--days N] [--force]
#   certs/generate.sh --dev [--out DIR] [--force]     # for local development: 127.0.0.1, ::1, localhost
#
# Writes DIR/ca.crt, DIR/ca.key, DIR/tls.crt, DIR/tls.key (keys 0600, never printed). Service mode also writes
# DIR/ca-bundle.yaml, the patch that puts the CA into both webhook configurations. Refuses to overwrite existing
# keys unless --force. Default DIR: manifests/overlays/self-signed (service mode) or certs/dev (--dev).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
mode=service
out=""
namespace=rollsafe-system
service=rollsafe
days=365
force=false

while [ $# -gt 0 ]; do
  case "$1" in
    --dev) mode=dev ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --namespace) namespace="${2:?--namespace needs a name}"; shift ;;
    --service) service="${2:?--service needs a name}"; shift ;;
    --days) days="${2:?--days needs a number}"; shift ;;
    --force) force=true ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "generate.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$out" ]; then
  if [ "$mode" = dev ]; then out="$here/dev"; else out="$here/../manifests/overlays/self-signed"; fi
fi

if [ "$mode" = dev ]; then
  cn=localhost
  sans="DNS:localhost,IP:127.0.0.1,IP:::1"
else
  cn="$service.$namespace.svc"
  sans="DNS:$service,DNS:$service.$namespace,DNS:$service.$namespace.svc,DNS:$service.$namespace.svc.cluster.local"
fi

if [ "$force" != true ]; then
  for existing in "$out/ca.key" "$out/tls.key"; do
    if [ -e "$existing" ]; then
      echo "generate.sh: $existing exists; refusing to overwrite it (use --force to replace the keys)" >&2
      exit 1
    fi
  done
fi

command -v openssl >/dev/null || { echo "generate.sh: openssl is required" >&2; exit 2; }
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 077

openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca.key" 2>/dev/null
openssl req -x509 -new -key "$work/ca.key" -sha256 -days "$days" -subj "/CN=rollsafe-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$work/ca.crt" 2>/dev/null

openssl ecparam -name prime256v1 -genkey -noout -out "$work/tls.key" 2>/dev/null
openssl req -new -key "$work/tls.key" -subj "/CN=$cn" -out "$work/tls.csr" 2>/dev/null
cat > "$work/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$sans
EXT
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
  -days "$days" -sha256 -extfile "$work/ext.cnf" -out "$work/tls.crt" 2>/dev/null

if [ "$mode" = service ]; then
  bundle="$(base64 -w0 < "$work/ca.crt")"
  {
    for kind in ValidatingWebhookConfiguration:validate MutatingWebhookConfiguration:mutate; do
      [ "${kind%%:*}" = MutatingWebhookConfiguration ] && echo "---"
      echo "apiVersion: admissionregistration.k8s.io/v1"
      echo "kind: ${kind%%:*}"
      echo "metadata:"
      echo "  name: rollsafe"
      echo "webhooks:"
      # The entries of manifests/base: one per mode, and for validation one more per mode for namespaces with
      # the AWS readiness gate label.
      entries="default enforce warn audit"
      [ "${kind##*:}" = validate ] && entries="$entries default.elbv2-gates enforce.elbv2-gates warn.elbv2-gates audit.elbv2-gates"
      for entry in $entries; do
        echo "  - name: $entry.${kind##*:}.rollsafe.dev"
        echo "    clientConfig:"
        echo "      caBundle: $bundle"
      done
    done
  } > "$work/ca-bundle.yaml"
  chmod 644 "$work/ca-bundle.yaml"
fi

# Move into place only once everything succeeded: no half-written set.
chmod 600 "$work/ca.key" "$work/tls.key"
chmod 644 "$work/ca.crt" "$work/tls.crt"
for name in ca.key ca.crt tls.key tls.crt ca-bundle.yaml; do
  if [ -e "$work/$name" ]; then mv -f "$work/$name" "$out/$name"; fi
done
echo "generate.sh: wrote $out/{ca.crt,tls.crt} and private keys $out/{ca.key,tls.key} for $cn ($sans)"
