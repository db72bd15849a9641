// Command vcsim runs govmomi's ESX simulator (Debian's 0.24.2) with what the vssorch
// ESXi adapter needs and stock vcsim lacks:
//
//   - FC HBAs with given WWPNs and an iSCSI HBA with a given IQN on the host;
//   - naa LUNs read from a JSON file on RescanAllHba / RescanHba (storage.go);
//   - physical-mode RDM attach/detach through ReconfigVM_Task (rdm.go);
//   - NPIV WWPNs, guest IP, guest host name and BIOS uuid on the first VM, so that
//     SearchIndex finds it the way the provider looks for itself;
//   - TLS with a certificate issued by a CA it writes to -cafile (the built-in test
//     certificate is RSA-1024, which Debian's OpenSSL refuses).
//
// The LUN file (-luns) is what the array has mapped to the host: a JSON array of
// {"uid": "<16 or 32 hex digits>", "capacity_bytes": <optional>}; other keys are ignored
// and a missing file means no LUN. The host sees a change only at its next rescan, which
// may read the file at any moment, so writers replace it atomically (write, rename).
//
// It prints one JSON line {"url", "vm", "cafile"} on stdout once it listens, and stops on
// SIGINT/SIGTERM or when its stdin closes, so a test runner that dies takes it along.
// The password is read from $VCSIM_PASSWORD, keeping it out of process listings.
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/types"
)

type options struct {
	listen     string
	cafile     string
	user       string
	password   string
	lunFile    string
	fcWWPNs    []int64
	iqn        string
	npivWWPNs  []int64
	vmIP       string
	vmHostName string
	vmUUID     string
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	opts, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "vcsim:", err)
		os.Exit(1)
	}
}

func parseOptions(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("vcsim", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on; port 0 picks a free one")
	fs.StringVar(&o.cafile, "cafile", "", "where to write the PEM of the CA that issued the server certificate (required)")
	fs.StringVar(&o.user, "user", "", "login user (required; the password comes from $VCSIM_PASSWORD)")
	fs.StringVar(&o.lunFile, "luns", "", "JSON file listing the LUNs the host sees after a rescan (required)")
	fc := fs.String("fc-wwpn", "", "comma-separated WWPNs (16 hex digits) of the host's FC HBAs")
	fs.StringVar(&o.iqn, "iqn", "", "IQN of the host's software iSCSI adapter; none when empty")
	npiv := fs.String("npiv-wwpn", "", "comma-separated NPIV port WWPNs of the first VM")
	fs.StringVar(&o.vmIP, "vm-ip", "", "guest.ipAddress of the first VM")
	fs.StringVar(&o.vmHostName, "vm-hostname", "", "guest.hostName of the first VM")
	fs.StringVar(&o.vmUUID, "vm-uuid", "", "config.uuid (BIOS uuid) of the first VM")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.password = os.Getenv("VCSIM_PASSWORD")
	if o.cafile == "" || o.user == "" || o.password == "" || o.lunFile == "" {
		return nil, fmt.Errorf("-cafile, -user, -luns and $VCSIM_PASSWORD are required")
	}
	var err error
	if o.fcWWPNs, err = parseWWNs(*fc); err != nil {
		return nil, err
	}
	if o.npivWWPNs, err = parseWWNs(*npiv); err != nil {
		return nil, err
	}
	return o, nil
}

// parseWWNs reads "10000090fa1b2c3d,..." into the signed longs vSphere uses for WWNs.
func parseWWNs(list string) ([]int64, error) {
	var out []int64
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		v, err := strconv.ParseUint(s, 16, 64)
		if err != nil || len(s) != 16 {
			return nil, fmt.Errorf("not a WWN (16 hex digits): %q", s)
		}
		out = append(out, int64(v))
	}
	return out, nil
}

func run(o *options) error {
	addHBAs(o)

	model := simulator.ESX()
	if err := model.Create(); err != nil {
		return err
	}
	defer model.Remove()

	if err := installLunStorage(o.lunFile); err != nil {
		return err
	}
	vmName, err := installVMs(o)
	if err != nil {
		return err
	}

	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return err
	}
	cert, caPEM, err := issueCertificate(host)
	if err != nil {
		return err
	}
	if err := ioutil.WriteFile(o.cafile, caPEM, 0o644); err != nil {
		return err
	}

	model.Service.Listen = &url.URL{Host: o.listen, User: url.UserPassword(o.user, o.password)}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	server := model.Service.NewServer()
	defer server.Close()

	public := *server.URL
	public.User = nil
	line, _ := json.Marshal(map[string]string{"url": public.String(), "vm": vmName, "cafile": o.cafile})
	fmt.Println(string(line))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		_, _ = io.Copy(ioutil.Discard, os.Stdin)
		stop <- syscall.SIGTERM
	}()
	<-stop
	return nil
}

// addHBAs must run before model.Create(): every host deep-copies esx.HostStorageDeviceInfo
// into config.storageDevice, and the storage system points at the template itself.
func addHBAs(o *options) {
	info := &esx.HostStorageDeviceInfo
	next := 2 // vmhba0, vmhba1 and vmhba64 exist in the template
	for _, wwpn := range o.fcWWPNs {
		dev := fmt.Sprintf("vmhba%d", next)
		next++
		info.HostBusAdapter = append(info.HostBusAdapter, &types.HostFibreChannelHba{
			HostHostBusAdapter: types.HostHostBusAdapter{
				Key:    "key-vim.host.FibreChannelHba-" + dev,
				Device: dev,
				Status: "online",
				Model:  "vcsim Fibre Channel adapter",
				Driver: "vcsim",
			},
			PortWorldWideName: wwpn,
			// Emulex/QLogic style: port 10:00:..., node 20:00:... The adapter reads ports only.
			NodeWorldWideName: int64(uint64(wwpn)&^(0xf<<60) | 0x2<<60),
			PortType:          "fabric",
			Speed:             16,
		})
	}
	if o.iqn != "" {
		info.HostBusAdapter = append(info.HostBusAdapter, &types.HostInternetScsiHba{
			HostHostBusAdapter: types.HostHostBusAdapter{
				Key:    "key-vim.host.InternetScsiHba-vmhba65",
				Device: "vmhba65",
				Status: "online",
				Model:  "iSCSI Software Adapter",
				Driver: "iscsi_vmk",
			},
			IsSoftwareBased: true,
			IScsiName:       o.iqn,
		})
	}
}

// installVMs wraps every VM so that RDM reconfigurations go through rdm.go, and seeds
// the first VM (by name) with the identity the provider searches for. It returns that
// VM's name.
func installVMs(o *options) (string, error) {
	var vms []*simulator.VirtualMachine
	for _, e := range simulator.Map.All("VirtualMachine") {
		vms = append(vms, e.(*simulator.VirtualMachine))
	}
	if len(vms) == 0 {
		return "", fmt.Errorf("the ESX model has no VM")
	}
	sort.Slice(vms, func(i, j int) bool { return vms[i].Name < vms[j].Name })

	self := vms[0]
	if o.vmIP != "" {
		self.Guest.IpAddress = o.vmIP
		self.Summary.Guest.IpAddress = o.vmIP
		for i := range self.Guest.Net {
			self.Guest.Net[i].IpAddress = []string{o.vmIP}
		}
	}
	if o.vmHostName != "" {
		self.Guest.HostName = o.vmHostName
		self.Summary.Guest.HostName = o.vmHostName
	}
	if o.vmUUID != "" {
		self.Config.Uuid = strings.ToLower(o.vmUUID)
		self.Summary.Config.Uuid = self.Config.Uuid
	}
	if len(o.npivWWPNs) > 0 {
		self.Config.NpivPortWorldWideName = o.npivWWPNs
		self.Config.NpivWorldWideNameType = "vc"
	}
	self.Guest.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)

	for _, vm := range vms {
		simulator.Map.Put(&rdmVM{VirtualMachine: *vm})
	}
	return self.Name, nil
}
