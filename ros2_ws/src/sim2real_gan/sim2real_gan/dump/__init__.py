"""``sim2real-gan dump``: a bag's image and label topics as files a person can open.

Modules: ``visual`` (labels, depth, flow, disparity and masks as pictures, shared with the
evaluation reports), ``kinds`` (what each image topic holds), ``sheet`` (the contact
sheet), ``bag_dump`` (reading a bag and writing the files). numpy + OpenCV + rosbags only:
no torch, no ROS.
"""
