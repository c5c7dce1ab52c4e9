"""``sys.path`` as Lambda's Python runtime sets it up, for every child run of layer code.

The runtime's ``/var/runtime/bootstrap.py`` (python3.12 image, public.ecr.aws/lambda/python;
awslambdaric is its open-source counterpart) runs, before it loads the handler::

    set_default_sys_path()          # /var/task, /opt/python/lib/python3.X/site-packages,
                                    # /opt/python at the front of sys.path, in that order
    add_default_site_directories()  # site.addsitedir() on each, in the same order

so the ``.pth`` files there run: path lines are appended to ``sys.path`` and ``import`` lines
are executed. When the function sets ``PYTHONPATH`` both skip the ``/opt`` folders (no layer
``.pth`` runs; open-telemetry/opentelemetry-lambda#1714). Child runs start with ``-I -S`` (no
host site-packages, no ``PYTHON*`` variables) and then call :data:`BOOTSTRAP_CODE`'s
``_lambda_slim_bootstrap(paths)`` with the folders in that order, as the child sees them.
"""

from __future__ import annotations

BOOTSTRAP_CODE = r"""
def _lambda_slim_bootstrap(paths):
    import site, sys
    sys.path[:0] = list(paths)
    for _p in paths:
        site.addsitedir(_p)
"""
