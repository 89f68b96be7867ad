// The OpenSSH server for upload tests lives in src/k8s/testbed/ since the repository demo uploads to one too.
export * from '../../src/k8s/testbed/sftp-server.ts';
