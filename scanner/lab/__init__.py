"""The lab: a virtual facility network of Linux network namespaces to scan (needs root).

`topology` is the device table and the scale population as plain data, `netns` builds and
removes the namespaces (`up`, `down`, `status`, `lab`), `responder` answers ARP in scale mode,
`probe` verifies a lab from inside it, `commands` is the `ndaa-scan lab` sub-app.
"""
