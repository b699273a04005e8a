// TEST ONLY. kubeadm's longer texts: help, the banners of a successful init and join, and how a
// kubelet that will not start shows.
import { Refusal, STANDIN } from '../lib/context.ts';

export const HELP = {
  kubeadm: `${STANDIN} kubeadm: easily bootstrap a secure Kubernetes cluster (TEST STAND-IN)\n\nUsage:\n  kubeadm [command]\n\nAvailable Commands:\n  init, join, reset, version\n`,
  init: `${STANDIN} Run this command in order to set up the Kubernetes control plane\n\nUsage:\n  kubeadm init [flags]\n`,
  join: `${STANDIN} Run this on any machine you wish to join an existing cluster\n\nUsage:\n  kubeadm join [api-server-endpoint] [flags]\n`,
};

export const PULLING_IMAGES =
  "[preflight] Pulling images required for setting up a Kubernetes cluster\n[preflight] This might take a minute or two, depending on the speed of your internet connection\n[preflight] You can also perform this action beforehand using 'kubeadm config images pull'\n";

export const INIT_DONE = `\nYour Kubernetes control-plane has initialized successfully!\n\nTo start using your cluster, you need to run the following as a regular user:\n\n  mkdir -p $HOME/.kube\n  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n  sudo chown $(id -u):$(id -g) $HOME/.kube/config\n\nAlternatively, if you are the root user, you can run:\n\n  export KUBECONFIG=/etc/kubernetes/admin.conf\n\nYou should now deploy a pod network to the cluster.\nRun "kubectl apply -f [podnetwork].yaml" with one of the options listed at:\n  https://kubernetes.io/docs/concepts/cluster-administration/addons/\n\n`;

/** How init shows the join commands (`join`: "kubeadm join ENDPOINT --token … --discovery-token-ca-cert-hash …"). */
export function joinCommands(join: string, opts: { controlPlaneEndpoint: boolean; uploadCerts: boolean; certificateKey: string }): string {
  const controlPlane = !opts.controlPlaneEndpoint
    ? ''
    : opts.uploadCerts
      ? `You can now join any number of control-plane nodes running the following command on each as root:\n\n  ${join} \\\n\t--control-plane --certificate-key ${opts.certificateKey}\n\nPlease note that the certificate-key gives access to cluster sensitive data, keep it secret!\nAs a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use\n"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.\n\n`
      : `You can now join any number of control-plane nodes by copying certificate authorities\nand service account keys on each node and then running the following as root:\n\n  ${join} \\\n\t--control-plane\n\n`;
  return `${controlPlane}Then you can join any number of worker nodes by running the following on each as root:\n\n${join}\n`;
}

export const JOINED = {
  controlPlane: `\nThis node has joined the cluster and a new control plane instance was created:\n\n* Certificate signing request was sent to apiserver and approval was received.\n* The Kubelet was informed of the new secure connection details.\n* Control plane label and taint were applied to the new node.\n* The Kubernetes control plane instances scaled up.\n* A new etcd member was added to the local/stacked etcd cluster.\n\nTo start administering your cluster from this node, you need to run the following as a regular user:\n\n\tmkdir -p $HOME/.kube\n\tsudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n\tsudo chown $(id -u):$(id -g) $HOME/.kube/config\n\nRun 'kubectl get nodes' to see this node join the cluster.\n\n`,
  worker: `\nThis node has joined the cluster:\n* Certificate signing request was sent to apiserver and a response was received.\n* The Kubelet was informed of the new secure connection details.\n\nRun 'kubectl get nodes' on the control-plane to see this node join the cluster.\n\n`,
};

/** A control-plane join without a certificate key needs the shared certificates in place. */
export function missingSharedCerts(dir: string, missing: string[]): Refusal {
  return new Refusal(
    `error execution phase preflight: \nOne or more conditions for hosting a new control plane instance is not satisfied.\n\n[${missing.map((f) => `failure loading ${f}: open ${dir}/${f}: no such file or directory`).join(', ')}]\n\nPlease ensure that:\n* The cluster has a stable controlPlaneEndpoint address.\n* The certificates that must be shared among control plane instances are provided.\n`,
  );
}

/** How kubeadm fails when the kubelet exits at start (the stand-in knows why; kubeadm only times out). */
export function kubeletFailure(phase: string, kubeletError: string): Refusal {
  return new Refusal(
    `${STANDIN} the kubelet would exit at start: ${kubeletError}\n` +
      `[kubelet-check] The kubelet is not healthy after 4m0s\n\nUnfortunately, an error has occurred, likely caused by:\n\t- The kubelet is not running\n\t- The kubelet is unhealthy due to a misconfiguration of the node in some way (required cgroups disabled)\n\n` +
      `If you are on a systemd-powered system, you can try to troubleshoot the error with the following commands:\n\t- 'systemctl status kubelet'\n\t- 'journalctl -xeu kubelet'\n\nerror execution phase ${phase}: could not initialize a Kubernetes cluster`,
  );
}
