"""A data dir on a disk /etc/fstab names but nothing mounts is found, from a real fstab file."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.unmounted_disks import fstab_mount_points, unmounted_disk

FSTAB_LINES = """\
# /etc/fstab: static file system information.
UUID=1234-abcd  /               ext4  errors=remount-ro  0  1
UUID=5678-ef01  none            swap  sw                 0  0
/swapfile       swap            swap  defaults           0  0
LABEL=usb       {usb}           exfat noauto,user        0  0
nas:/texts      {nas}  nfs   defaults  0  0   # the NAS
"""


def _fstab(tmp_path: Path, *, usb: Path, nas: Path) -> Path:
    escaped = {name: str(path).replace(" ", "\\040") for name, path in (("usb", usb), ("nas", nas))}
    fstab = tmp_path / "fstab"
    fstab.write_text(FSTAB_LINES.format(**escaped))
    return fstab


def test_the_mount_points_an_fstab_names(tmp_path: Path) -> None:
    usb, nas = tmp_path / "my usb", tmp_path / "nas"
    points = fstab_mount_points(_fstab(tmp_path, usb=usb, nas=nas).read_text())
    assert points == [Path("/"), usb, nas]  # swap left out, the space unescaped


def test_a_folder_on_a_mount_point_with_nothing_mounted_is_found(tmp_path: Path) -> None:
    usb, nas = tmp_path / "my usb", tmp_path / "nas"
    usb.mkdir()  # the empty folder a disk not mounted leaves; nas/ not even that
    fstab = _fstab(tmp_path, usb=usb, nas=nas)
    assert unmounted_disk(usb / "texts", fstab) == usb
    assert unmounted_disk(usb, fstab) == usb  # the data dir is the mount point itself
    assert unmounted_disk(nas / "a" / "b", fstab) == nas
    assert unmounted_disk(tmp_path / "elsewhere", fstab) is None  # only "/" holds it
    linked = tmp_path / "data"
    linked.symlink_to(usb / "texts")
    assert unmounted_disk(linked, fstab) == usb  # through a link, where it leads
    assert unmounted_disk(usb, tmp_path / "no-fstab") is None  # nothing to tell by


def test_a_mounted_disk_is_not_refused_and_the_deepest_mount_point_decides(
    tmp_path: Path,
) -> None:
    if os.path.ismount("/proc"):
        fstab = _fstab(tmp_path, usb=Path("/proc"), nas=tmp_path / "nas")
        assert unmounted_disk(Path("/proc/self"), fstab) is None
    outer = tmp_path  # the mount point holding this test's folder (perhaps "/")
    while not os.path.ismount(outer):
        outer = outer.parent
    nested = tmp_path / "fstab-nested"
    nested.write_text(f"/dev/sda1 {outer} ext4 defaults 0 0\n/dev/sdb1 {tmp_path / 'inner'} ext4\n")
    assert unmounted_disk(tmp_path / "texts", nested) is None
    assert unmounted_disk(tmp_path / "inner" / "texts", nested) == tmp_path / "inner"


def test_a_bind_mount_or_a_linked_mount_point_is_mounted(tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    fstab = tmp_path / "fstab"
    fstab.write_text(f"/srv/texts {usb} none bind 0 0\n")
    # a bind mount on the same disk: the same device as its parent, so only mountinfo says it
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 1 252:1 / / rw,relatime - ext4 /dev/vda rw\n"
        f"95 22 252:1 /srv/texts {str(usb).replace(' ', chr(92) + '040')} rw - ext4 /dev/vda rw\n"
    )
    assert unmounted_disk(usb / "data", fstab, mountinfo) is None
    assert unmounted_disk(usb / "data", fstab, tmp_path / "no-mountinfo") == usb  # ismount
    # the mount point fstab names is a link to where the disk is mounted
    linked = tmp_path / "linked-usb"
    linked.symlink_to(usb)
    fstab.write_text(f"LABEL=usb {linked} exfat defaults 0 0\n")
    assert unmounted_disk(linked / "data", fstab, mountinfo) is None
    if os.path.ismount("/proc"):  # without mountinfo, the link's target is asked
        proc = tmp_path / "linked-proc"
        proc.symlink_to("/proc")
        fstab.write_text(f"proc {proc} proc defaults 0 0\n")
        assert unmounted_disk(proc / "self", fstab, tmp_path / "no-mountinfo") is None


def test_a_hash_inside_a_mount_point_is_part_of_it() -> None:
    text = "# a comment\n/dev/sdb1 /mnt/a#b ext4 defaults 0 0\n  # indented comment\n"
    assert fstab_mount_points(text) == [Path("/mnt/a#b")]
