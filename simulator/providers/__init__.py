"""Every class the array serves, and every method it implements, in one registry."""
from . import copyservices, hosts, masking, system, volumes

ALL_PROVIDERS = [*system.PROVIDERS, *volumes.PROVIDERS, *hosts.PROVIDERS, *masking.PROVIDERS,
                 *copyservices.PROVIDERS]
ALL_METHODS = {**volumes.METHODS, **hosts.METHODS, **masking.METHODS, **copyservices.METHODS}
DELETABLE = {k.lower(): v for k, v in copyservices.DELETABLE.items()}
