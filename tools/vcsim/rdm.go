package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// rdmVM keeps raw disk mappings away from the stock ReconfigVM code. That code asserts
// every disk backing to be FlatVer2 (updateDiskLayouts) and panics on an RDM, and then
// on every later reconfigure of the VM, because the RDM is already in its device list.
// Here RDM changes are checked and applied by this file; the rest of the spec still goes
// through the stock code, with the VM's RDM disks hidden from it for the duration.
// (Other stock methods that lay out disks, snapshots and clones, still cannot cope with
// an RDM; the adapter does not use them.)
//
// The simulator type is embedded by value: the property collector and SearchIndex dig
// the mo type out through Field(0) and panic on a pointer.
type rdmVM struct {
	simulator.VirtualMachine
}

const (
	scsiUnits      = 16 // units per SCSI controller, as on a non-pvscsi-64 VM
	scsiSelfUnit   = 7  // the controller's own unit
	firstDiskKey   = 2000
	physicalMode   = string(types.VirtualDiskCompatibilityModePhysicalMode)
	opAdd          = types.VirtualDeviceConfigSpecOperationAdd
	opRemove       = types.VirtualDeviceConfigSpecOperationRemove
	fileOpCreate   = types.VirtualDeviceConfigSpecFileOperationCreate
	fileOpDestroy  = types.VirtualDeviceConfigSpecFileOperationDestroy
	mappingComment = "# vcsim physical-mode RDM mapping for "
)

func rdmBacking(d types.BaseVirtualDevice) *types.VirtualDiskRawDiskMappingVer1BackingInfo {
	disk, ok := d.(*types.VirtualDisk)
	if !ok {
		return nil
	}
	b, _ := disk.Backing.(*types.VirtualDiskRawDiskMappingVer1BackingInfo)
	return b
}

func (vm *rdmVM) ReconfigVMTask(ctx *simulator.Context, req *types.ReconfigVM_Task) soap.HasFault {
	task := simulator.CreateTask(vm, "reconfigVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return nil, vm.reconfigure(ctx, req.Spec)
	})
	return &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{Returnval: task.Run()}}
}

func (vm *rdmVM) reconfigure(ctx *simulator.Context, spec types.VirtualMachineConfigSpec) types.BaseMethodFault {
	var rdm []int // indexes into spec.DeviceChange
	var others []types.BaseVirtualDeviceConfigSpec
	for i, c := range spec.DeviceChange {
		if rdmBacking(c.GetVirtualDeviceConfigSpec().Device) != nil {
			rdm = append(rdm, i)
		} else {
			others = append(others, c)
		}
	}
	luns := vm.hostDisks(ctx)
	if fault := vm.check(spec.DeviceChange, rdm, luns); fault != nil {
		return fault
	}

	// A controller added in the same spec has a temporary negative key; the stock code
	// gives it a real one, which the RDM disks placed on it must then use.
	tempKeys := map[types.BaseVirtualDevice]int32{}
	for _, c := range others {
		s := c.GetVirtualDeviceConfigSpec()
		if s.Operation == opAdd {
			tempKeys[s.Device] = s.Device.GetVirtualDevice().Key
		}
	}

	var plain, mapped []types.BaseVirtualDevice
	for _, d := range vm.Config.Hardware.Device {
		if rdmBacking(d) != nil {
			mapped = append(mapped, d)
		} else {
			plain = append(plain, d)
		}
	}
	vm.Config.Hardware.Device = plain
	stock := spec
	stock.DeviceChange = others
	fault := vm.stockReconfigure(ctx, stock)

	devices := append(append([]types.BaseVirtualDevice(nil), vm.Config.Hardware.Device...), mapped...)
	if fault == nil {
		realKeys := map[int32]int32{}
		for d, temp := range tempKeys {
			realKeys[temp] = d.GetVirtualDevice().Key
		}
		devices, fault = vm.apply(spec.DeviceChange, rdm, devices, realKeys, luns)
	}
	simulator.Map.Update(vm, []types.PropertyChange{
		{Name: "config.hardware.device", Val: devices},
		{Name: "summary.config.numVirtualDisks", Val: int32(len(object.VirtualDeviceList(devices).SelectByType((*types.VirtualDisk)(nil))))},
	})
	return fault
}

// stockReconfigure runs the simulator's own ReconfigVM (synchronously, as all vcsim
// tasks run) and returns its fault.
func (vm *rdmVM) stockReconfigure(ctx *simulator.Context, spec types.VirtualMachineConfigSpec) types.BaseMethodFault {
	body := vm.VirtualMachine.ReconfigVMTask(ctx, &types.ReconfigVM_Task{This: vm.Self, Spec: spec})
	ref := body.(*methods.ReconfigVM_TaskBody).Res.Returnval
	task := simulator.Map.Get(ref).(*simulator.Task)
	if task.Info.Error != nil {
		return task.Info.Error.Fault
	}
	return nil
}

// hostDisks returns the disks the VM's host sees now, by device path.
func (vm *rdmVM) hostDisks(ctx *simulator.Context) map[string]*types.HostScsiDisk {
	disks := map[string]*types.HostScsiDisk{}
	host := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem)
	ctx.WithLock(host, func() {
		for _, lun := range host.Config.StorageDevice.ScsiLun {
			if disk, ok := lun.(*types.HostScsiDisk); ok {
				disks[disk.DeviceName] = disk
			}
		}
	})
	return disks
}

type unitSlot struct{ controller, unit int32 }

// check refuses what ESXi would refuse before anything changes: a LUN the host does not
// see, a unit that is taken or out of range, a backing other than a new physical-mode
// mapping, removing an RDM the VM does not have.
func (vm *rdmVM) check(changes []types.BaseVirtualDeviceConfigSpec, rdm []int, luns map[string]*types.HostScsiDisk) types.BaseMethodFault {
	used := map[unitSlot]bool{}
	controllers := map[int32]bool{}
	attached := map[int32]*types.VirtualDisk{} // RDM disks by device key
	lunInUse := map[string]bool{}              // by ScsiLun.uuid
	for _, d := range vm.Config.Hardware.Device {
		v := d.GetVirtualDevice()
		if _, ok := d.(types.BaseVirtualSCSIController); ok {
			controllers[v.Key] = true
		}
		if v.UnitNumber != nil {
			used[unitSlot{v.ControllerKey, *v.UnitNumber}] = true
		}
		if b := rdmBacking(d); b != nil {
			attached[v.Key] = d.(*types.VirtualDisk)
			lunInUse[b.LunUuid] = true
		}
	}
	for _, c := range changes {
		s := c.GetVirtualDeviceConfigSpec()
		if _, ok := s.Device.(types.BaseVirtualSCSIController); ok && s.Operation == opAdd {
			controllers[s.Device.GetVirtualDevice().Key] = true
		}
	}

	for _, i := range rdm {
		s := changes[i].GetVirtualDeviceConfigSpec()
		d := s.Device.GetVirtualDevice()
		b := rdmBacking(s.Device)
		invalid := func(property string) types.BaseMethodFault {
			return &types.InvalidDeviceSpec{InvalidVmConfig: types.InvalidVmConfig{Property: property}, DeviceIndex: int32(i)}
		}
		badBacking := func(property string) types.BaseMethodFault {
			return &types.InvalidDeviceBacking{InvalidDeviceSpec: types.InvalidDeviceSpec{
				InvalidVmConfig: types.InvalidVmConfig{Property: property}, DeviceIndex: int32(i)}}
		}

		switch s.Operation {
		case opRemove:
			old, ok := attached[d.Key]
			if !ok {
				return invalid("virtualDeviceSpec.device.key")
			}
			delete(attached, d.Key)
			delete(used, unitSlot{old.ControllerKey, *old.UnitNumber})
			delete(lunInUse, rdmBacking(old).LunUuid)
		case opAdd:
			if b.CompatibilityMode != physicalMode {
				return badBacking("virtualDeviceSpec.device.backing.compatibilityMode")
			}
			if s.FileOperation != fileOpCreate {
				// Re-attaching an existing mapping file is not simulated.
				return invalid("virtualDeviceSpec.fileOperation")
			}
			lun := luns[b.DeviceName]
			if lun == nil || (b.LunUuid != "" && b.LunUuid != lun.Uuid) {
				return badBacking("virtualDeviceSpec.device.backing.deviceName")
			}
			if lunInUse[lun.Uuid] {
				return badBacking("virtualDeviceSpec.device.backing.lunUuid")
			}
			if !controllers[d.ControllerKey] {
				return invalid("virtualDeviceSpec.device.controllerKey")
			}
			u := d.UnitNumber
			if u == nil || *u < 0 || *u >= scsiUnits || *u == scsiSelfUnit || used[unitSlot{d.ControllerKey, *u}] {
				return invalid("virtualDeviceSpec.device.unitNumber")
			}
			used[unitSlot{d.ControllerKey, *u}] = true
			lunInUse[lun.Uuid] = true
		default:
			return &types.NotSupported{}
		}
	}
	return nil
}

// apply carries out RDM changes that check accepted.
func (vm *rdmVM) apply(changes []types.BaseVirtualDeviceConfigSpec, rdm []int, devices []types.BaseVirtualDevice,
	realKeys map[int32]int32, luns map[string]*types.HostScsiDisk) ([]types.BaseVirtualDevice, types.BaseMethodFault) {
	for _, i := range rdm {
		s := changes[i].GetVirtualDeviceConfigSpec()
		disk := s.Device.(*types.VirtualDisk)

		if s.Operation == opRemove {
			for j, d := range devices {
				if d.GetVirtualDevice().Key != disk.Key {
					continue
				}
				devices = append(devices[:j], devices[j+1:]...)
				if s.FileOperation == fileOpDestroy {
					vm.removeMapping(rdmBacking(d).FileName)
				}
				break
			}
			continue
		}

		b := rdmBacking(disk)
		lun := luns[b.DeviceName]
		if key, ok := realKeys[disk.ControllerKey]; ok {
			disk.ControllerKey = key
		}
		disk.Key = firstDiskKey
		for _, d := range devices {
			if k := d.GetVirtualDevice().Key; k >= disk.Key {
				disk.Key = k + 1
			}
		}
		file, ds, fault := vm.createMapping(lun.DeviceName)
		if fault != nil {
			return devices, fault
		}
		b.FileName = file
		b.Datastore = ds
		b.LunUuid = lun.Uuid
		disk.CapacityInBytes = lun.Capacity.Block * int64(lun.Capacity.BlockSize)
		disk.CapacityInKB = disk.CapacityInBytes / 1024
		disk.DeviceInfo = &types.Description{Label: "Hard disk", Summary: lun.DisplayName}
		devices = append(devices, disk)
	}
	return devices, nil
}

// createMapping writes the mapping (pointer) file next to the .vmx, as ESXi does when
// fileName is empty, and returns its datastore path.
func (vm *rdmVM) createMapping(deviceName string) (string, *types.ManagedObjectReference, types.BaseMethodFault) {
	var vmx object.DatastorePath
	if !vmx.FromString(vm.Config.Files.VmPathName) {
		return "", nil, &types.InvalidDatastorePath{DatastorePath: vm.Config.Files.VmPathName}
	}
	ds := vm.datastore(vmx.Datastore)
	if ds == nil {
		return "", nil, &types.InvalidDatastorePath{DatastorePath: vm.Config.Files.VmPathName}
	}
	dir := path.Dir(vmx.Path)
	for n := 1; ; n++ {
		name := path.Join(dir, fmt.Sprintf("%s_%d.vmdk", vm.Name, n))
		local := filepath.Join(ds.Info.GetDatastoreInfo().Url, name)
		f, err := os.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return "", nil, &types.CannotCreateFile{FileFault: types.FileFault{File: local}}
		}
		_, err = f.WriteString(mappingComment + deviceName + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", nil, &types.CannotCreateFile{FileFault: types.FileFault{File: local}}
		}
		ref := ds.Self
		return (&object.DatastorePath{Datastore: ds.Name, Path: name}).String(), &ref, nil
	}
}

// removeMapping deletes a mapping file; one that is already gone is fine, as on ESXi
// after someone cleaned the datastore by hand.
func (vm *rdmVM) removeMapping(file string) {
	var p object.DatastorePath
	if !p.FromString(file) {
		return
	}
	if ds := vm.datastore(p.Datastore); ds != nil {
		_ = os.Remove(filepath.Join(ds.Info.GetDatastoreInfo().Url, p.Path))
	}
}

func (vm *rdmVM) datastore(name string) *simulator.Datastore {
	for _, ref := range vm.Datastore {
		if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok && ds.Name == name {
			return ds
		}
	}
	return nil
}
