"""sim2real_gan: temporally consistent sim->real translation of simulated endoscope streams.

The core (everything except :mod:`sim2real_gan.node`) imports nothing from ROS, so it
runs and is tested on machines without a ROS 2 installation.
"""

__version__ = "0.1.0"
