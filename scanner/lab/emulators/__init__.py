"""Protocol emulators for the lab's device namespaces.

Every module in this package that defines a `Service` subclass is a service; a device runs the
services its `LabDevice.services` names, all in one host process per device namespace
(`python -m scanner.lab.emulators`), answering from the device's persona. Emulators are written
independently of the scanner's wire code on purpose: a bug shared by both sides would cancel out.
"""
