#!/usr/bin/env python3
# Writes packer_fields.tsv from the local mirrors of hashicorp/packer, packer-plugin-amazon and packer-plugin-sdk
# (/work/.mirror/...; `fetch` them first). Field names only: no documentation text is copied.
import subprocess,re,sys
AM="/work/.mirror/hashicorp+packer-plugin-amazon/repo"; SDK="/work/.mirror/hashicorp+packer-plugin-sdk/repo"
def show(repo,p):
    r=subprocess.run(["git","-C",repo,"show","HEAD:"+p],capture_output=True,text=True)
    return r.stdout if r.returncode==0 else None
prefix={"AssumeRoleConfig":"assume_role.","Placement":"placement.","MetadataOptions":"metadata_options.",
 "AWSPollingConfig":"aws_polling.","BlockDevice":"block_device.","FastLaunchConfig":"fast_launch.",
 "FastLaunchTemplateConfig":"fast_launch.template.","DeregistrationProtectionOptions":"deregistration_protection.",
 "RootBlockDevice":"ami_root_device.","VaultAWSEngineOptions":"vault_aws_engine.","AmiFilterOptions":"source_ami_filter.",
 "SubnetFilterOptions":"subnet_filter.","PolicyDocument":"temporary_iam_instance_profile_policy_document.",
 "Statement":"temporary_iam_instance_profile_policy_document.Statement.","LicenseSpecification":"license_specifications.",
 "LicenseConfigurationRequest":"license_specifications.license_configuration_request."}
rows=[]
def fields(text):
    return re.findall(r"^- `([A-Za-z0-9_]+)` \(",text,re.M)
def fromdoc(comp,doc,extra=[]):
    t=show(AM,doc)
    incs=re.findall(r"@include '([^']+)'",t)+extra
    for inc in incs:
        if not inc.endswith("required.mdx"): continue
        if inc.startswith("packer-plugin-sdk/"):
            p="cmd/packer-sdc/internal/renderdocs/docs-partials/"+inc; txt=show(SDK,p) or show(SDK,p.replace("SSHTemporaryKeyPair","SSH-Temporary-Key-Pair")); src="packer-plugin-sdk:"+p
        else:
            p="docs-partials/"+inc; txt=show(AM,p); src="packer-plugin-amazon:"+p
        if txt is None: print("missing",inc,file=sys.stderr); continue
        base=p.split("/")[-1].replace("-not-required.mdx","").replace("-required.mdx","")
        pre="" if comp.startswith("data/") else prefix.get(base,"")
        for f in fields(txt): rows.append((comp,pre+f,src))
comm=["packer-plugin-sdk/communicator/WinRM-not-required.mdx","packer-plugin-sdk/communicator/SSH-Agent-Auth-not-required.mdx"]
for comp,doc in [("source/amazon-ebs","docs/builders/ebs.mdx"),("source/amazon-instance","docs/builders/instance.mdx"),
  ("source/amazon-ebssurrogate","docs/builders/ebssurrogate.mdx"),("source/amazon-ebsvolume","docs/builders/ebsvolume.mdx"),
  ("source/amazon-chroot","docs/builders/chroot.mdx"),("data/amazon-ami","docs/datasources/ami.mdx"),
  ("data/amazon-parameterstore","docs/datasources/parameterstore.mdx"),("data/amazon-secretsmanager","docs/datasources/secretsmanager.mdx"),
  ("post-processor/amazon-import","docs/post-processors/import.mdx")]:
    fromdoc(comp,doc,comm if comp.startswith("source/") and comp!="source/amazon-chroot" else [])
seen=set()
print('# Fields Packer documents: component<TAB>field<TAB>source (repository:path at the mirrored HEAD).')
print('# Builders: the docs-partials their docs pages include (packer-plugin-amazon, and packer-plugin-sdk for the')
print('# communicator). Provisioners, post-processors and data sources: the HCL2 spec generated from their config')
print('# structs (packer, packer-plugin-sdk, packer-plugin-amazon). Nested fields are dotted; block_device.X stands for')
print('# the fields of every block-device mapping block. Regenerate: python3 packer_fields.py > packer_fields.tsv')
for r in rows:
    if (r[0],r[1]) in seen: continue
    seen.add((r[0],r[1])); print("\t".join(r))
PK="/work/.mirror/hashicorp+packer/repo"
def spec(comp,repo,rname,path):
    t=show(repo,path)
    if t is None: print("missing",path,file=sys.stderr); return
    m=None
    for n in ("FlatConfig","FlatProvisioner","FlatPostProcessor"):
        m=m or re.search(r"func \(\*"+n+r"\) HCL2Spec\(\).*?\n}\n",t,re.S)
    if m is None: print("nospec",path,file=sys.stderr); return
    body=m.group(0)
    for name in re.findall(r'"([a-z0-9_]+)": *&hcldec\.(?:AttrSpec|BlockSpec|BlockListSpec)',body):
        if name.startswith("packer_"): continue
        if (comp,name) in seen: continue
        seen.add((comp,name)); print("\t".join((comp,name,rname+":"+path)))
for comp,p in [("provisioner/shell","provisioner/shell/provisioner.hcl2spec.go"),("provisioner/file","provisioner/file/provisioner.hcl2spec.go"),
 ("provisioner/powershell","provisioner/powershell/provisioner.hcl2spec.go"),("provisioner/windows-shell","provisioner/windows-shell/provisioner.hcl2spec.go"),
 ("provisioner/windows-restart","provisioner/windows-restart/provisioner.hcl2spec.go"),("provisioner/breakpoint","provisioner/breakpoint/provisioner.hcl2spec.go"),
 ("provisioner/sleep","provisioner/sleep/provisioner.hcl2spec.go"),
 ("post-processor/manifest","post-processor/manifest/post-processor.hcl2spec.go"),("post-processor/checksum","post-processor/checksum/post-processor.hcl2spec.go"),
 ("post-processor/compress","post-processor/compress/post-processor.hcl2spec.go"),("post-processor/artifice","post-processor/artifice/post-processor.hcl2spec.go"),
 ("data/http","datasource/http/data.hcl2spec.go")]:
    spec(comp,PK,"packer",p)
for comp,p in [("provisioner/shell-local","shell-local/config.hcl2spec.go"),("post-processor/shell-local","shell-local/config.hcl2spec.go")]:
    spec(comp,SDK,"packer-plugin-sdk",p)
for comp,p in [("data/amazon-ami","datasource/ami/data.hcl2spec.go"),("data/amazon-parameterstore","datasource/parameterstore/data.hcl2spec.go"),
 ("data/amazon-secretsmanager","datasource/secretsmanager/data.hcl2spec.go"),("post-processor/amazon-import","post-processor/import/post-processor.hcl2spec.go")]:
    spec(comp,AM,"packer-plugin-amazon",p)
