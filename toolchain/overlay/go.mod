// The files below are new files of the Go tree (overlay/src is copied over
// GOROOT/src by build.sh), not packages of pagesnap: this go.mod keeps them
// out of the pagesnap module.
module pagesnap.invalid/toolchain-overlay
