// The webhook's serving certificate when none is given: a self-signed CA made at start and a serving
// certificate it signs for the names and addresses the API server will dial. The CA's PEM is what goes into
// the ValidatingWebhookConfiguration's caBundle. Keys come from Node's own crypto (RSA 2048); node-forge
// only builds and signs the X.509 structures, which Node cannot do.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface ServingCertificate {
  /** PEM of the CA that signed `cert`: the caBundle. */
  ca: string;
  cert: string;
  key: string;
}

function keyPair(): {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  pem: string;
} {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

function certificate(
  subject: string,
  publicKey: forge.pki.PublicKey,
  validDays: number,
  extensions: object[],
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive 127-bit serial, as RFC 5280 wants them unpredictable and at most 20 octets.
  cert.serialNumber = `0${randomBytes(16).toString('hex').slice(1)}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000); // a little clock skew
  cert.validity.notAfter = new Date(Date.now() + validDays * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: subject }]);
  cert.setExtensions(extensions);
  return cert;
}

/** A CA and a serving certificate for `hosts` (DNS names and IP addresses), valid for `validDays`. */
export function selfSignedServingCertificate(hosts: string[], validDays = 365): ServingCertificate {
  const caKeys = keyPair();
  const ca = certificate('packetcapture-webhook-ca', caKeys.publicKey, validDays, [
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.setIssuer(ca.subject.attributes);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const servingKeys = keyPair();
  const serving = certificate(hosts[0] ?? 'packetcapture-webhook', servingKeys.publicKey, validDays, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: hosts.map((host) => (isIP(host) ? { type: 7, ip: host } : { type: 2, value: host })),
    },
  ]);
  serving.setIssuer(ca.subject.attributes);
  serving.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    ca: forge.pki.certificateToPem(ca),
    cert: forge.pki.certificateToPem(serving),
    key: servingKeys.pem,
  };
}
