"""ament_python build of the sim2real_gan ROS 2 package (colcon build).

The same ``sim2real_gan`` Python package is also installed by the repository's
top-level pyproject.toml (``pip install -e .``) for use without ROS.
"""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "sim2real_gan"

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        # launch/ and models/ are links to the repository's top-level folders.
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
        (f"share/{PACKAGE}/models/default", glob("models/default/*")),
    ],
    zip_safe=True,
    maintainer="sim2real_gan maintainers",
    maintainer_email="maintainers@sim2real-gan.invalid",
    description="Real-time sim-to-real translation of simulated endoscope images for ROS 2",
    license="Apache-2.0",
    # colcon test picks pytest (which runs the launch_testing tests in test/) from this extra
    extras_require={"test": ["pytest"]},
    entry_points={
        "console_scripts": [
            "translator_node = sim2real_gan.node.translator_node:main",
            "synthetic_camera = sim2real_gan.node.synthetic_camera_node:main",
            "sim2real-gan = sim2real_gan.cli.main:main",
        ],
    },
)
