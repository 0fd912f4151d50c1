// Keyless Sigstore bundles made and checked by the sigstore JavaScript libraries (pinned,
// installed by scripts/bootstrap into build/tools/sigstore), as GitHub's attestation actions make
// them: @sigstore/mock's Fulcio, Rekor and timestamp authority stand in for the real services
// (nock intercepts the requests inside this process), @sigstore/sign builds DSSE bundles of
// in-toto statements with intoto Rekor entries and RFC 3161 timestamps, and @sigstore/verify is
// the reference verifier.
//
//   node keyless.js make OUT_DIR SPEC_FILE
//       SPEC_FILE: {"bundles": [{"name", "digest", "claims": {...GitHub token claims},
//         "ca": "trusted" | "untrusted", "caMinutesAgo": N,
//         "tlog": true | false (a Rekor entry; default true),
//         "tsa": "trusted" | "untrusted" (an RFC 3161 timestamp from that authority; default none),
//         "proof": "tree" (the Rekor entry's inclusion proof rebuilt as leaf 2 of a 5-leaf tree,
//         the checkpoint signed again with the log's key; the mock logs into a tree of one),
//         "set": false (no signed entry timestamp: the inclusion proof alone, as Rekor v2 logs),
//         "tamper": "body" | "timestamp" | "proof" (a hash of the audit path) |
//         "checkpoint" (the checkpoint's signature) | "", "predicateType"}]}
//       "tlog": false with "tsa" is how GitHub signs for private repositories (its own Sigstore
//       instance timestamps instead of logging). Writes OUT_DIR/trusted_root.json (the mock's CA
//       root, CT log and Rekor keys, the trusted TSA's chain, Sigstore's trusted_root.json format)
//       and OUT_DIR/<name>.json per bundle (v0.3).
//   node keyless.js verify BUNDLE TRUSTED_ROOT DIGEST ISSUER SUBJECT [SHA]
//       @sigstore/verify on the bundle, the identity as policy (the SAN, the issuer extension,
//       and the source repository digest 1.3.6.1.4.1.57264.1.13 when SHA is given), then the
//       statement's subject against DIGEST. Prints "pass" or "fail: <reason>"; exit 0 or 1.
//       The thresholds are imagegate's policy: one verified time source (a log entry's signed
//       entry timestamp or an RFC 3161 timestamp, timestampThreshold 1), no log entry required
//       (tlogThreshold 0; every entry present must still verify), one SCT (ctlogThreshold 1).
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const modules = path.join(process.env.SIGSTORE_TOOLS || '', 'node_modules');
const req = (name) => require(path.join(modules, name));

const FULCIO_URL = 'https://fulcio.keyless.test';
const REKOR_URL = 'https://rekor.keyless.test';
const TSA_URL = 'https://tsa.keyless.test';
const EPOCH = '2020-01-01T00:00:00.000Z';

function jwt(claims) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.c2ln`;
}

function keyPair() {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function spki(publicKey) {
  return publicKey.export({ format: 'der', type: 'spki' });
}

async function make(outDir, specFile) {
  const mock = req('@sigstore/mock');
  const sign = req('@sigstore/sign');
  const nock = req('nock');
  const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
  const ctKeys = keyPair();
  const tlogKeys = keyPair();
  const caKeys = { trusted: keyPair(), untrusted: keyPair() };
  const ctLog = await mock.initializeCTLog(ctKeys);
  const tlog = await mock.initializeTLog(REKOR_URL, tlogKeys);
  // Two timestamp authorities with the same names and serials: only the trusted one's chain is in
  // the trusted root.
  // the trusted root. Their clock is set to the whole second when each request comes: the mock
  // writes the milliseconds into genTime as a fraction, which @sigstore/core's time parser rejects.
  const tsaClock = new Date(Math.floor(Date.now() / 1000) * 1000);
  const tsas = {
    trusted: await mock.initializeTSA(keyPair(), tsaClock),
    untrusted: await mock.initializeTSA(keyPair(), tsaClock),
  };
  const cas = {};
  const caFor = async (which, minutesAgo) => {
    const k = `${which}/${minutesAgo || 0}`;
    if (!cas[k]) {
      const clock = minutesAgo ? new Date(Date.now() - minutesAgo * 60 * 1000) : undefined;
      cas[k] = await mock.initializeCA(caKeys[which], ctLog, clock);
    }
    return cas[k];
  };
  const trustedCA = await caFor('trusted', 0);
  fs.mkdirSync(outDir, { recursive: true });
  for (const b of spec.bundles) {
    const ca = await caFor(b.ca || 'trusted', b.caMinutesAgo || 0);
    nock.cleanAll();
    const fulcio = mock.fulcioHandler(ca);
    const rekor = mock.rekorHandler(tlog);
    const reply = (handler) => async (_uri, body) => {
      const r = await handler.fn(typeof body === 'string' ? body : JSON.stringify(body));
      return [r.statusCode, r.response, { 'Content-Type': r.contentType || 'text/plain' }];
    };
    nock(FULCIO_URL).post(fulcio.path).reply(reply(fulcio));
    nock(REKOR_URL).post(rekor.path).reply(reply(rekor));
    const witnesses = [];
    if (b.tlog !== false) witnesses.push(new sign.RekorWitness({ rekorBaseURL: REKOR_URL, entryType: 'intoto' }));
    if (b.tsa) {
      const tsa = mock.tsaHandler(tsas[b.tsa]);
      nock(TSA_URL).post(tsa.path).reply(async (uri, body) => {
        tsaClock.setTime(Math.floor(Date.now() / 1000) * 1000);
        return reply(tsa)(uri, body);
      });
      witnesses.push(new sign.TSAWitness({ tsaBaseURL: TSA_URL }));
    }
    const builder = new sign.DSSEBundleBuilder({
      signer: new sign.FulcioSigner({
        fulcioBaseURL: FULCIO_URL,
        identityProvider: { getToken: async () => jwt(b.claims) },
      }),
      witnesses,
    });
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: b.subjectName || 'image', digest: { sha256: b.digest.replace(/^sha256:/, '') } }],
      predicateType: b.predicateType || 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://actions.github.io/buildtypes/workflow/v1',
          externalParameters: {},
          resolvedDependencies: [{ uri: `git+https://github.com/${b.claims.repository}`, digest: { gitCommit: b.claims.sha } }],
        },
        runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' } },
      },
    };
    const bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: 'application/vnd.in-toto+json' });
    const json = req('@sigstore/bundle').bundleToJSON(bundle);
    if (b.tamper === 'body') {
      // Another payload hash in the logged body: the signed entry timestamp no longer covers it.
      const entry = json.verificationMaterial.tlogEntries[0];
      const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString('utf8'));
      body.spec.content.payloadHash.value = crypto.createHash('sha256').update('tampered').digest('hex');
      entry.canonicalizedBody = Buffer.from(JSON.stringify(body)).toString('base64');
    }
    if (b.proof === 'tree') {
      const entry = json.verificationMaterial.tlogEntries[0];
      const sha = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
      const leaf = (bytes) => sha(Buffer.from([0]), bytes);
      const node = (l, r) => sha(Buffer.from([1]), l, r);
      const leaves = [0, 1, 2, 3, 4].map((i) => leaf(Buffer.from(`leaf ${i}`)));
      leaves[2] = leaf(Buffer.from(entry.canonicalizedBody, 'base64'));
      const h01 = node(leaves[0], leaves[1]);
      const root = node(node(h01, node(leaves[2], leaves[3])), leaves[4]);
      const host = new URL(REKOR_URL).host;
      const note = `${host} - 42\n5\n${root.toString('base64')}\nTimestamp: ${entry.integratedTime}000000000\n`;
      const logID = crypto.createHash('sha256').update(spki(tlogKeys.publicKey)).digest();
      const sig = crypto.sign('sha256', Buffer.from(note), tlogKeys.privateKey);
      entry.inclusionProof = {
        logIndex: '2', treeSize: '5', rootHash: root.toString('base64'),
        hashes: [leaves[3], h01, leaves[4]].map((h) => h.toString('base64')),
        checkpoint: { envelope: `${note}\n\u2014 ${host} ${Buffer.concat([logID.subarray(0, 4), sig]).toString('base64')}\n` },
      };
    }
    if (b.set === false) delete json.verificationMaterial.tlogEntries[0].inclusionPromise;
    if (b.tamper === 'proof') {
      const proof = json.verificationMaterial.tlogEntries[0].inclusionProof;
      const h = Buffer.from(proof.hashes[0], 'base64');
      h[0] ^= 0x01;
      proof.hashes[0] = h.toString('base64');
    }
    if (b.tamper === 'checkpoint') {
      // The signature line's base64 is the key hint and the signature: change its last byte.
      const cp = json.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
      cp.envelope = cp.envelope.replace(/ (\S+)\n$/, (_m, b64) => {
        const bytes = Buffer.from(b64, 'base64');
        bytes[bytes.length - 1] ^= 0x01;
        return ` ${bytes.toString('base64')}\n`;
      });
    }
    if (b.tamper === 'timestamp') {
      // The timestamp's last byte is the last byte of its ECDSA signature: still DER, no longer
      // signed by the authority.
      const stamp = json.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0];
      const der = Buffer.from(stamp.signedTimestamp, 'base64');
      der[der.length - 1] ^= 0x01;
      stamp.signedTimestamp = der.toString('base64');
    }
    fs.writeFileSync(path.join(outDir, `${b.name}.json`), JSON.stringify(json));
  }
  const root = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{
      baseUrl: REKOR_URL,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: spki(tlogKeys.publicKey).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: EPOCH } },
      logId: { keyId: crypto.createHash('sha256').update(spki(tlogKeys.publicKey)).digest('base64') },
    }],
    certificateAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
      uri: FULCIO_URL,
      certChain: { certificates: [{ rawBytes: trustedCA.rootCertificate.toString('base64') }] },
      validFor: { start: EPOCH },
    }],
    ctlogs: [{
      baseUrl: 'https://ctfe.keyless.test',
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: spki(ctKeys.publicKey).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: EPOCH } },
      logId: { keyId: Buffer.from(ctLog.logID.buffer, ctLog.logID.byteOffset, ctLog.logID.byteLength).toString('base64') },
    }],
    timestampAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'tsa' },
      uri: TSA_URL,
      certChain: { certificates: [tsas.trusted.intCertificate, tsas.trusted.rootCertificate].map((c) => ({ rawBytes: c.toString('base64') })) },
      validFor: { start: EPOCH },
    }],
  };
  fs.writeFileSync(path.join(outDir, 'trusted_root.json'), JSON.stringify(root, null, 2));
  return 0;
}

function utf8String(value) {
  const body = Buffer.from(value, 'utf8');
  if (body.length > 127) throw new Error('value too long');
  return Buffer.concat([Buffer.from([0x0c, body.length]), body]);
}

function verify(bundleFile, rootFile, digest, issuer, subject, sha) {
  const verifyLib = req('@sigstore/verify');
  const bundleLib = req('@sigstore/bundle');
  const protobuf = req('@sigstore/protobuf-specs');
  try {
    const bundle = bundleLib.bundleFromJSON(JSON.parse(fs.readFileSync(bundleFile, 'utf8')));
    const root = protobuf.TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootFile, 'utf8')));
    const verifier = new verifyLib.Verifier(verifyLib.toTrustMaterial(root), { tlogThreshold: 0, timestampThreshold: 1, ctlogThreshold: 1 });
    const policy = { subjectAlternativeName: subject, extensions: { issuer } };
    if (sha) {
      policy.oids = [{ oid: { id: '1.3.6.1.4.1.57264.1.13'.split('.').map(Number) }, value: utf8String(sha) }];
    }
    verifier.verify(verifyLib.toSignedEntity(bundle), policy);
    const statement = JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8'));
    const hex = digest.replace(/^sha256:/, '');
    if (!statement.subject.some((s) => s.digest && s.digest.sha256 === hex)) {
      throw new Error('the statement subject is another digest');
    }
    process.stdout.write('pass\n');
    return 0;
  } catch (err) {
    process.stdout.write(`fail: ${err.code ? err.code + ' ' : ''}${err.message}\n`);
    return 1;
  }
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command === 'make') return make(...args);
  if (command === 'verify') return verify(...args);
  process.stderr.write('usage: keyless.js make|verify ...\n');
  return 2;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  process.stderr.write(`keyless.js: ${err.stack || err.message}\n`);
  process.exit(1);
});
