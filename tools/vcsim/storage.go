package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// lunEntry is one element of the LUN file: the LUNs currently mapped to the host.
// Unknown keys are ignored, so the writer may add its own (volume names and such).
type lunEntry struct {
	UID           string `json:"uid"`            // page-83 NAA id, 16 or 32 hex digits, any case
	CapacityBytes int64  `json:"capacity_bytes"` // optional; 1 GiB when 0
}

const (
	lunVendor = "VCSIM"
	lunModel  = "2145" // IBM SVC's product id; nothing matches on it, it only shapes the vml id
	blockSize = 512
)

// lunStorage replaces the host's storage system: a rescan re-reads the LUN file, so a
// test (or the embedded array) maps and unmaps LUNs by rewriting it. The simulator type
// is embedded by value: the property collector digs the mo type out through Field(0).
type lunStorage struct {
	simulator.HostStorageSystem

	file string
	// The template's own LUNs (local disk, cdrom), kept in front of the file's.
	base []types.BaseScsiLun
}

func installLunStorage(file string) error {
	host, ok := simulator.Map.Any("HostSystem").(*simulator.HostSystem)
	if !ok {
		return fmt.Errorf("the ESX model has no host")
	}
	stock := simulator.Map.Get(*host.ConfigManager.StorageSystem).(*simulator.HostStorageSystem)
	base := append([]types.BaseScsiLun(nil), esx.HostStorageDeviceInfo.ScsiLun...)
	simulator.Map.Put(&lunStorage{HostStorageSystem: *stock, file: file, base: base})
	return nil
}

// RescanAllHba overrides the stock method, which swaps in a fixed HBA list instead.
func (s *lunStorage) RescanAllHba(ctx *simulator.Context, _ *types.RescanAllHba) soap.HasFault {
	body := &methods.RescanAllHbaBody{}
	if err := s.reload(ctx); err != nil {
		body.Fault_ = simulator.Fault(err.Error(), &types.HostConfigFault{})
		return body
	}
	body.Res = new(types.RescanAllHbaResponse)
	return body
}

// RescanHba is missing from stock 0.24.2. Every HBA sees every LUN in the file, so one
// HBA's rescan reloads them all.
func (s *lunStorage) RescanHba(ctx *simulator.Context, req *types.RescanHba) soap.HasFault {
	body := &methods.RescanHbaBody{}
	found := false
	for _, hba := range s.StorageDeviceInfo.HostBusAdapter {
		found = found || hba.GetHostHostBusAdapter().Device == req.HbaDevice
	}
	if !found {
		body.Fault_ = simulator.Fault("no HBA "+req.HbaDevice, &types.NotFound{})
		return body
	}
	if err := s.reload(ctx); err != nil {
		body.Fault_ = simulator.Fault(err.Error(), &types.HostConfigFault{})
		return body
	}
	body.Res = new(types.RescanHbaResponse)
	return body
}

func (s *lunStorage) reload(ctx *simulator.Context) error {
	entries, err := readLunFile(s.file)
	if err != nil {
		return err
	}
	luns := append([]types.BaseScsiLun(nil), s.base...)
	for _, e := range entries {
		luns = append(luns, naaDisk(e))
	}
	s.StorageDeviceInfo.ScsiLun = luns
	ctx.WithLock(s.Host, func() {
		s.Host.Config.StorageDevice.ScsiLun = luns
	})
	return nil
}

// readLunFile treats a missing file as "nothing mapped" so a test can start without one.
func readLunFile(file string) ([]lunEntry, error) {
	data, err := ioutil.ReadFile(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var entries []lunEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("LUN file %s: %v", file, err)
	}
	for i := range entries {
		uid := strings.ToLower(entries[i].UID)
		if _, err := hex.DecodeString(uid); err != nil || (len(uid) != 16 && len(uid) != 32) {
			return nil, fmt.Errorf("LUN file %s: entry %d: uid %q is not 16 or 32 hex digits", file, i, entries[i].UID)
		}
		entries[i].UID = uid
	}
	return entries, nil
}

// vmlID builds ScsiLun.uuid the way ESXi shapes it for NAA devices: "02" (page-83 id),
// LUN number and id type bytes, the NAA id, then the model in hex.
func vmlID(uid string) string {
	return "0200000000" + uid + hex.EncodeToString([]byte(fmt.Sprintf("%-6s", lunModel)))
}

func naaDisk(e lunEntry) *types.HostScsiDisk {
	name := "naa." + e.UID
	path := "/vmfs/devices/disks/" + name
	capacity := e.CapacityBytes
	if capacity == 0 {
		capacity = 1 << 30
	}
	// No durableName / standardInquiry: 0.24.2 marshals byte[] as one text element,
	// which pyVmomi cannot parse.
	return &types.HostScsiDisk{
		ScsiLun: types.ScsiLun{
			HostDevice:       types.HostDevice{DeviceName: path, DeviceType: "disk"},
			Key:              "key-vim.host.ScsiDisk-" + vmlID(e.UID),
			Uuid:             vmlID(e.UID),
			CanonicalName:    name,
			DisplayName:      fmt.Sprintf("%s Fibre Channel Disk (%s)", lunVendor, name),
			LunType:          "disk",
			Vendor:           lunVendor,
			Model:            lunModel,
			OperationalState: []string{"ok"},
		},
		Capacity:   types.HostDiskDimensionsLba{BlockSize: blockSize, Block: capacity / blockSize},
		DevicePath: path,
	}
}
