"""Volunteer teams (志愿服务队): members, skills with certificates, availability and service hours."""
