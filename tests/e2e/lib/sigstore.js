// The sigstore JavaScript libraries (pinned, installed by scripts/bootstrap into
// build/tools/sigstore) as an independent producer and verifier of the test artifacts:
//
//   node sigstore.js attach HOST/REPO DIGEST MEDIA_TYPE FILE [KEY=VALUE...]
//       @sigstore/oci attachArtifactToImage: the artifact as a referrer of the image (the
//       referrers API where the registry has one, else the referrers tag schema), as GitHub's
//       attestation actions push them; prints the artifact manifest's digest.
//   node sigstore.js verify-dsse ENVELOPE_FILE PUBLIC_KEY_PEM
//       @sigstore/core: DSSE PAE and signature check; exit 0 when one signature verifies.
//   node sigstore.js verify-blob FILE SIGNATURE_BASE64 PUBLIC_KEY_PEM
//       @sigstore/core: a cosign simple-signing signature (SHA-256; Ed25519 raw).
'use strict';
const fs = require('fs');
const path = require('path');
const modules = path.join(process.env.SIGSTORE_TOOLS || '', 'node_modules');
const core = require(path.join(modules, '@sigstore/core'));

function keyOf(file) {
  return core.crypto.createPublicKey(fs.readFileSync(file, 'utf8'));
}

function algorithmOf(key) {
  return key.asymmetricKeyType === 'ed25519' ? undefined : 'sha256';
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command === 'attach') {
    const oci = require(path.join(modules, '@sigstore/oci'));
    const [imageName, imageDigest, mediaType, file, ...pairs] = args;
    const annotations = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
    const descriptor = await oci.attachArtifactToImage({
      imageName, imageDigest, mediaType, annotations, artifact: fs.readFileSync(file), credentials: undefined,
    });
    process.stdout.write(descriptor.digest + '\n');
    return 0;
  }
  if (command === 'verify-dsse') {
    const [envelopeFile, keyFile] = args;
    const envelope = JSON.parse(fs.readFileSync(envelopeFile, 'utf8'));
    const key = keyOf(keyFile);
    const pae = core.dsse.preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
    const ok = envelope.signatures.some((s) => core.crypto.verify(pae, key, Buffer.from(s.sig, 'base64'), algorithmOf(key)));
    return ok ? 0 : 1;
  }
  if (command === 'verify-blob') {
    const [file, signature, keyFile] = args;
    const key = keyOf(keyFile);
    return core.crypto.verify(fs.readFileSync(file), key, Buffer.from(signature, 'base64'), algorithmOf(key)) ? 0 : 1;
  }
  process.stderr.write('usage: sigstore.js attach|verify-dsse|verify-blob ...\n');
  return 2;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  process.stderr.write(`sigstore.js: ${err.message}\n`);
  process.exit(1);
});
