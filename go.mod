module github.com/pagesnap/pagesnap

go 1.26.0

require (
	github.com/digitalocean/go-qemu v0.0.0-20250212194115-ee9b0668d242
	github.com/usbarmory/tamago v1.26.0
	golang.org/x/arch v0.32.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/digitalocean/go-libvirt v0.0.0-20220804181439-8648fbde413e // indirect
	golang.org/x/sys v0.30.0 // indirect
)
