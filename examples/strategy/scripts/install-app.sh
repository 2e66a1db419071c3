#!/bin/sh
# Installs the app: its configuration and a launcher. Runs over SSH as
# ec2-user when baked, as root from the boot payload: sudo works in both.
set -e
sudo install -D -m 0640 /tmp/app.conf /etc/app/app.conf
echo "version=$APP_VERSION" | sudo tee /etc/app/version >/dev/null
sudo tee /opt/app/run.sh >/dev/null <<'SCRIPT'
#!/bin/sh
echo "app $(cat /etc/app/version)"
SCRIPT
sudo chmod 0755 /opt/app/run.sh
echo "installed app $APP_VERSION"
