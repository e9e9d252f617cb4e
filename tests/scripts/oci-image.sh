# shellcheck shell=bash
# OCI image archives for tests that cannot reach a registry: `ctr image import`, `nerdctl load` and CRI (through
# `ctr -n k8s.io image import`) take them.
#
#   oci_image_archive ROOTFS OUT.tar NAME [CONFIG_JSON]
#     one uncompressed layer holding the directory ROOTFS, an image config (default: PATH set, Cmd ["sh"]; or
#     CONFIG_JSON, the "config" object of the image config, e.g. '{"Entrypoint":["/pause"]}'), a manifest and
#     an index whose manifest carries NAME (io.containerd.image.name) so that the importer tags it.
#   OCI_IMAGE_OS (default linux): the image's os (another one is also named in the index's platform, as
#     containerd's Windows platform matcher wants); OCI_IMAGE_MEMBERS (default "."): what of ROOTFS goes in the
#     layer, e.g. "Files Hives" for a Windows layer.
oci_image_archive() {
  local rootfs=${1:?oci_image_archive ROOTFS OUT NAME [CONFIG]} out=${2:?} name=${3:?}
  local config_object=${4:-'{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}'}
  local dir layer_sha layer_size config config_sha manifest manifest_sha
  dir=$(mktemp -d "${TMPDIR:-/tmp}/oci-image-XXXXXX") || return 1
  mkdir -p "$dir/blobs/sha256"
  local os=${OCI_IMAGE_OS:-linux} platform='' owner=()
  # Another os: named in the index too, and no Linux owners in its layer.
  [ "$os" = linux ] || { platform='"platform":{"architecture":"amd64","os":"'$os'"},'; owner=(--owner=0 --group=0); }
  # shellcheck disable=SC2086  # the members are words
  tar -C "$rootfs" "${owner[@]}" -cf "$dir/layer.tar" ${OCI_IMAGE_MEMBERS:-.} || { rm -rf "$dir"; return 1; }
  layer_sha=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$dir/layer.tar")
  mv "$dir/layer.tar" "$dir/blobs/sha256/$layer_sha"
  config='{"architecture":"amd64","os":"'$os'","config":'$config_object','
  config+='"rootfs":{"type":"layers","diff_ids":["sha256:'$layer_sha'"]}}'
  config_sha=$(printf '%s' "$config" | sha256sum | cut -d' ' -f1)
  printf '%s' "$config" >"$dir/blobs/sha256/$config_sha"
  manifest='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
  manifest+='"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$config_sha'","size":'${#config}'},'
  manifest+='"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$layer_sha'","size":'$layer_size'}]}'
  manifest_sha=$(printf '%s' "$manifest" | sha256sum | cut -d' ' -f1)
  printf '%s' "$manifest" >"$dir/blobs/sha256/$manifest_sha"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,'$platform'"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest_sha" "${#manifest}" "$name" "${name##*:}" >"$dir/index.json"
  tar -C "$dir" -cf "$out" oci-layout index.json blobs
  local rc=$?
  rm -rf "$dir"
  return $rc
}
