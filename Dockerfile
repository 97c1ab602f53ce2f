# sim2real_gan on ROS 2 Jazzy with CUDA PyTorch and TensorRT.
#
#   docker build -t sim2real_gan:jazzy .
#   docker run --rm -it --gpus all --net host sim2real_gan:jazzy \
#       ros2 launch sim2real_gan translate.launch.py synthetic_source:=true
#
# Build args: TORCH_INDEX (PyTorch wheel index for your CUDA), UID (user id of the runtime user).
# The tensorrt PyPI package downloads its libraries from NVIDIA while the image builds.
# Notes: docs/ros.md ("Docker").
FROM ros:jazzy

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cu128
ARG UID=1001
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    RMW_IMPLEMENTATION=rmw_cyclonedds_cpp

RUN apt-get update && apt-get install -y --no-install-recommends \
        python3-venv python3-pip python3-colcon-common-extensions \
        ros-jazzy-diagnostic-updater ros-jazzy-rmw-cyclonedds-cpp \
        ros-jazzy-rosbag2-storage-mcap ros-jazzy-rosbag2-storage-default-plugins \
        ros-jazzy-launch-testing-ros ros-jazzy-ros2lifecycle \
    && rm -rf /var/lib/apt/lists/*

# A venv that still sees the apt ROS Python packages (rclpy, message types). The ROS message
# packages are compiled against Ubuntu's numpy 1.26, so numpy stays on 1.26 here (numpy 2
# would break them) and OpenCV on a release that supports numpy 1.x.
RUN python3 -m venv --system-site-packages /opt/venv \
    && printf 'numpy==1.26.4\nopencv-python-headless<4.12\n' > /opt/constraints.txt
ENV PATH=/opt/venv/bin:$PATH \
    PIP_CONSTRAINT=/opt/constraints.txt \
    PIP_NO_CACHE_DIR=1
RUN pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}" \
    && pip install tensorrt

COPY . /opt/sim2real_gan
WORKDIR /opt/sim2real_gan
# Core dependencies and the sim2real-gan CLI, then the ROS package (entry points use the venv's
# python because colcon runs under it).
RUN pip install . \
    && . /opt/ros/jazzy/setup.sh \
    && cd ros2_ws && python -m colcon build --merge-install --event-handlers console_direct- \
    && rm -rf build log

RUN useradd --create-home --uid "${UID}" sim2real \
    && mkdir -p /home/sim2real/.cache/sim2real_gan /data \
    && chown -R sim2real /home/sim2real /data \
    && printf '#!/bin/bash\nset -e\nsource /opt/ros/jazzy/setup.bash\nsource /opt/sim2real_gan/ros2_ws/install/setup.bash\nexec "$@"\n' \
        > /usr/local/bin/sim2real-entrypoint \
    && chmod 755 /usr/local/bin/sim2real-entrypoint
USER sim2real
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/sim2real-entrypoint"]
CMD ["ros2", "launch", "sim2real_gan", "translate.launch.py"]
