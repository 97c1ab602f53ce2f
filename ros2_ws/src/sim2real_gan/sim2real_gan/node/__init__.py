"""ROS 2 (rclpy) glue: the only part of the package that imports rclpy."""
