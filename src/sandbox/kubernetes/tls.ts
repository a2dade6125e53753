import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

/** A certificate authority and a serving certificate it signed, in PEM. */
export interface ServingTls {
  /** The CA certificate clients trust (kubeconfig `certificate-authority-data`). */
  ca: string;
  /** The server's certificate (127.0.0.1, ::1 and localhost) and its private key. */
  cert: string;
  key: string;
}

/** An RSA key pair, generated off the event loop. */
function rsaKeys(): Promise<{ publicKey: string; privateKey: string }> {
  return promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/**
 * A fresh CA and a serving certificate for 127.0.0.1, ::1 and localhost, as a cluster's would be:
 * the CA may only sign certificates, the server's certificate is for serverAuth. Keys come from
 * node:crypto; node-forge (loaded on use: only a sandbox pays for it) builds and signs the
 * certificates. Valid for a year.
 */
export async function issueServingTls(name = 'day2-sandbox'): Promise<ServingTls> {
  const { default: forge } = await import('node-forge');
  const { pki } = forge;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 365 * 86_400_000);
  const serial = () => `01${randomBytes(15).toString('hex')}`;

  const [caKeys, serverKeys] = await Promise.all([rsaKeys(), rsaKeys()]);
  const caPrivate = pki.privateKeyFromPem(caKeys.privateKey);
  const ca = pki.createCertificate();
  ca.publicKey = pki.publicKeyFromPem(caKeys.publicKey);
  ca.serialNumber = serial();
  ca.validity.notBefore = notBefore;
  ca.validity.notAfter = notAfter;
  const caName = [{ name: 'commonName', value: `${name}-ca` }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caPrivate, forge.md.sha256.create());

  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(serverKeys.publicKey);
  cert.serialNumber = serial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: 'commonName', value: name }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
        { type: 2, value: 'localhost' },
      ],
    },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caPrivate, forge.md.sha256.create());
  return { ca: pki.certificateToPem(ca), cert: pki.certificateToPem(cert), key: serverKeys.privateKey };
}
